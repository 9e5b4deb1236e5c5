/* SPDX-License-Identifier: Apache-2.0 */
/* Connection profile parsing: Fabric's shapes in YAML and JSON, defaults, and every rejection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tc.h"

static const char full_yaml[] =
    "name: test-network\n"
    "version: 1.0.0\n"
    "client:\n"
    "  organization: Org2\n"
    "  connection: {timeout: {peer: {endorser: '300'}}}\n"
    "organizations:\n"
    "  Org1:\n"
    "    mspid: Org1MSP\n"
    "    peers: [peer0.org1.example.com, peer1.org1.example.com]\n"
    "    certificateAuthorities: [ca.org1.example.com]\n"
    "  Org2:\n"
    "    mspid: Org2MSP\n"
    "    peers:\n"
    "      - peer0.org2.example.com\n"
    "peers:\n"
    "  peer0.org1.example.com:\n"
    "    url: grpc://localhost:7051\n"
    "    tlsCACerts: {pem: \"-----BEGIN CERTIFICATE-----\"}\n"
    "    grpcOptions: {ssl-target-name-override: peer0.org1.example.com}\n"
    "  peer1.org1.example.com: {url: 'grpc://127.0.0.1:8051'}\n"
    "  peer0.org2.example.com: {url: 'grpc://[::1]:9051'}\n"
    "  loner.example.com: {url: grpc://loner:10051}\n"
    "orderers:\n"
    "  orderer0.example.com: {url: grpc://localhost:7050}\n"
    "  orderer1.example.com: {url: grpc://localhost:8050}\n"
    "channels:\n"
    "  mychannel:\n"
    "    orderers: [orderer1.example.com]\n"
    "    peers:\n"
    "      peer0.org1.example.com: {endorsingPeer: true, chaincodeQuery: true, ledgerQuery: "
    "true, eventSource: true}\n"
    "      peer1.org1.example.com: {endorsingPeer: false}\n"
    "      peer0.org2.example.com:\n"
    "  other:\n"
    "    peers:\n"
    "      loner.example.com: {chaincodeQuery: no}\n"
    "certificateAuthorities:\n"
    "  ca.org1.example.com: {url: https://localhost:7054}\n";

static struct wc_profile *parse_ok(const char *text)
{
    struct wc_profile *p = NULL;
    struct lc_errbuf err;
    ck_assert_msg(wc_profile_parse(text, strlen(text), "t.yaml", &err, &p) == 0, "parse: %s",
                  err.msg);
    return p;
}

START_TEST(profile_full)
{
    struct wc_profile *p = parse_ok(full_yaml);
    ck_assert_str_eq(wc_profile_name(p), "test-network");
    ck_assert_str_eq(wc_profile_client_org(p), "Org2");
    ck_assert_str_eq(wc_profile_client_mspid(p), "Org2MSP");
    ck_assert_uint_eq(wc_profile_org_count(p), 2);
    ck_assert_str_eq(wc_profile_org_name(p, 0), "Org1");
    ck_assert_str_eq(wc_profile_org_mspid(p, 1), "Org2MSP");
    ck_assert_ptr_null(wc_profile_org_name(p, 2));
    ck_assert_uint_eq(wc_profile_peer_count(p), 4);
    struct wc_endpoint ep;
    ck_assert(wc_profile_peer(p, 0, &ep));
    ck_assert_str_eq(ep.name, "peer0.org1.example.com");
    ck_assert_str_eq(ep.address, "localhost:7051");
    ck_assert_str_eq(ep.mspid, "Org1MSP");
    ck_assert(wc_profile_peer(p, 2, &ep));
    ck_assert_str_eq(ep.address, "[::1]:9051");
    ck_assert_str_eq(ep.mspid, "Org2MSP");
    ck_assert(wc_profile_peer(p, 3, &ep));
    ck_assert_ptr_null(ep.mspid); /* no organization lists it */
    ck_assert(!wc_profile_peer(p, 4, &ep));
    ck_assert_uint_eq(wc_profile_orderer_count(p), 2);
    ck_assert(wc_profile_orderer(p, 1, &ep));
    ck_assert_str_eq(ep.name, "orderer1.example.com");
    ck_assert_str_eq(ep.address, "localhost:8050");
    ck_assert_uint_eq(wc_profile_channel_count(p), 2);
    ck_assert_str_eq(wc_profile_channel_name(p, 0), "mychannel");

    struct wc_endpoint *eps = NULL;
    size_t n = 0;
    struct lc_errbuf err;
    /* endorsing peers: peer1.org1 says endorsingPeer: false; peer0.org2 defaults to all roles */
    ck_assert_int_eq(wc_profile_channel_peers(p, "mychannel", WC_ROLE_ENDORSING, &err, &eps, &n),
                     0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(eps[0].name, "peer0.org1.example.com");
    ck_assert_str_eq(eps[1].name, "peer0.org2.example.com");
    free(eps);
    ck_assert_int_eq(wc_profile_channel_peers(p, "mychannel", 0, &err, &eps, &n), 0);
    ck_assert_uint_eq(n, 3);
    free(eps);
    ck_assert_int_eq(wc_profile_channel_peers(p, "other", WC_ROLE_CHAINCODE_QUERY, &err, &eps, &n),
                     0);
    ck_assert_uint_eq(n, 0);
    free(eps);
    ck_assert_int_eq(wc_profile_channel_orderers(p, "mychannel", &err, &eps, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(eps[0].name, "orderer1.example.com");
    free(eps);
    /* a channel that lists no orderers gets all of them */
    ck_assert_int_eq(wc_profile_channel_orderers(p, "other", &err, &eps, &n), 0);
    ck_assert_uint_eq(n, 2);
    free(eps);
    ck_assert_int_eq(wc_profile_channel_peers(p, "nochannel", 0, &err, &eps, &n), LC_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "nochannel"));
    ck_assert_int_eq(wc_profile_channel_orderers(p, "nochannel", &err, &eps, &n), LC_ENOTFOUND);
    wc_profile_free(p);
}
END_TEST

START_TEST(profile_json)
{
    static const char json[] =
        "{\"name\": \"j\", \"client\": {\"organization\": \"Org1\"},"
        " \"organizations\": {\"Org1\": {\"mspid\": \"Org1MSP\", \"peers\": [\"p0\"]}},"
        " \"peers\": {\"p0\": {\"url\": \"grpc://127.0.0.1:7051\"}},"
        " \"orderers\": {\"o0\": {\"url\": \"grpc://127.0.0.1:7050\"}},"
        " \"channels\": {\"ch\": {\"orderers\": [\"o0\"], \"peers\": {\"p0\": "
        "{\"endorsingPeer\": false}}}}}";
    struct wc_profile *p = parse_ok(json);
    ck_assert_str_eq(wc_profile_client_mspid(p), "Org1MSP");
    struct wc_endpoint *eps = NULL;
    size_t n = 9;
    struct lc_errbuf err;
    ck_assert_int_eq(wc_profile_channel_peers(p, "ch", WC_ROLE_ENDORSING, &err, &eps, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(eps);
    ck_assert_int_eq(wc_profile_channel_peers(p, "ch", WC_ROLE_LEDGER_QUERY, &err, &eps, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(eps[0].mspid, "Org1MSP");
    free(eps);
    wc_profile_free(p);
}
END_TEST

START_TEST(profile_no_channels_section)
{
    struct wc_profile *p = parse_ok("organizations: {O: {mspid: OMSP, peers: [a]}}\n"
                                    "peers: {a: {url: grpc://h:1}, b: {url: grpc://h:2}}\n"
                                    "orderers: {o: {url: grpc://h:3}}\n");
    ck_assert_ptr_null(wc_profile_client_org(p));
    ck_assert_ptr_null(wc_profile_client_mspid(p));
    ck_assert_str_eq(wc_profile_name(p), "");
    struct wc_endpoint *eps = NULL;
    size_t n = 0;
    struct lc_errbuf err;
    /* every peer, every role, any channel */
    ck_assert_int_eq(wc_profile_channel_peers(p, "any", WC_ROLE_ENDORSING, &err, &eps, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(eps[1].address, "h:2");
    free(eps);
    ck_assert_int_eq(wc_profile_channel_orderers(p, "any", &err, &eps, &n), 0);
    ck_assert_uint_eq(n, 1);
    free(eps);
    wc_profile_free(p);
}
END_TEST

START_TEST(profile_load_file)
{
    struct wc_profile *p = NULL;
    struct lc_errbuf err;
    const char *path = tc_path("conn.yaml");
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(full_yaml, f);
    fclose(f);
    ck_assert_int_eq(wc_profile_load(path, &err, &p), 0);
    ck_assert_uint_eq(wc_profile_peer_count(p), 4);
    wc_profile_free(p);
    ck_assert_int_eq(wc_profile_load(tc_path("missing.yaml"), &err, &p), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err.msg, "missing.yaml"));
    remove(path);
    wc_profile_free(NULL);
}
END_TEST

struct bad {
    const char *text;
    int code;
    const char *want;
};

static const struct bad bad_profiles[] = {
    {"peers: [unclosed\n", LC_ESYNTAX, "t.yaml:"},
    {"", LC_EINVALID, "empty"},
    {"- a\n- b\n", LC_EINVALID, "expected a mapping"},
    {"peers: {a: {url: grpc://h:1}}\npeers: {}\n", LC_EINVALID, "duplicate key 'peers'"},
    {"peers: {a: {url: grpc://h:1}, a: {url: grpc://h:2}}\n", LC_EINVALID, "duplicate key 'a'"},
    {"peers: [a]\n", LC_EINVALID, "peers: expected a mapping"},
    {"peers: {a: grpc://h:1}\n", LC_EINVALID, "peers/a: expected a mapping"},
    {"peers: {a: {address: h:1}}\n", LC_EINVALID, "peers/a: url is missing"},
    {"peers: {a: {url: grpcs://h:1}}\n", LC_EINVALID, "TLS"},
    {"peers: {a: {url: http://h:1}}\n", LC_EINVALID, "expected grpc://host:port"},
    {"peers: {a: {url: grpc://h}}\n", LC_EINVALID, "peers/a/url"},
    {"peers: {a: {url: grpc://h:0}}\n", LC_EINVALID, "port must be 1..65535"},
    {"peers: {a: {url: grpc://h:70000}}\n", LC_EINVALID, "port must be 1..65535"},
    {"peers: {a: {url: grpc://h:1/path}}\n", LC_EINVALID, "port"},
    {"peers: {a: {url: ''}}\n", LC_EINVALID, "empty value"},
    {"peers: {a: {url: [x]}}\n", LC_EINVALID, "expected a scalar"},
    {"orderers: {o: {}}\n", LC_EINVALID, "orderers/o: url is missing"},
    {"organizations: {O: {peers: []}}\n", LC_EINVALID, "organizations/O: mspid is missing"},
    {"organizations: {O: {mspid: ''}}\n", LC_EINVALID, "organizations/O/mspid: empty value"},
    {"organizations: {O: {mspid: M, peers: [nope]}}\n", LC_EINVALID, "peer 'nope' is not defined"},
    {"organizations: {O: {mspid: M, peers: {a: 1}}}\n", LC_EINVALID, "expected a list"},
    {"peers: {a: {url: grpc://h:1}}\n"
     "organizations: {O: {mspid: M, peers: [a]}, P: {mspid: N, peers: [a]}}\n",
     LC_EINVALID, "already listed by another organization"},
    {"client: {organization: Nope}\n", LC_EINVALID, "organization 'Nope' is not defined"},
    {"client: [x]\n", LC_EINVALID, "client: expected a mapping"},
    {"channels: {c: {peers: {nope: {}}}}\n", LC_EINVALID, "channels/c/peers/nope"},
    {"channels: {c: {orderers: [nope]}}\n", LC_EINVALID, "orderer 'nope' is not defined"},
    {"peers: {a: {url: grpc://h:1}}\nchannels: {c: {peers: {a: {endorsingPeer: maybe}}}}\n",
     LC_EINVALID, "channels/c/peers/a/endorsingPeer: 'maybe' is not a boolean"},
    {"channels: [c]\n", LC_EINVALID, "channels: expected a mapping"},
    {"name: [x]\n", LC_EINVALID, "name: expected a scalar"},
};

START_TEST(profile_rejects)
{
    const struct bad *b = &bad_profiles[_i];
    struct wc_profile *p = NULL;
    struct lc_errbuf err = {{0}};
    int r = wc_profile_parse(b->text, strlen(b->text), "t.yaml", &err, &p);
    ck_assert_msg(r == b->code, "profile %d: got %d (%s), want %d", _i, r, err.msg, b->code);
    ck_assert_msg(strstr(err.msg, b->want) != NULL, "profile %d: '%s' lacks '%s'", _i, err.msg,
                  b->want);
    ck_assert_ptr_null(p);
}
END_TEST

START_TEST(profile_line_numbers)
{
    struct wc_profile *p = NULL;
    struct lc_errbuf err;
    const char *text = "name: x\npeers:\n  a:\n    url: grpcs://h:1\n";
    ck_assert_int_eq(wc_profile_parse(text, strlen(text), "f.yaml", &err, &p), LC_EINVALID);
    ck_assert_msg(strncmp(err.msg, "f.yaml:4: peers/a/url: ", 23) == 0, "%s", err.msg);
}
END_TEST

START_TEST(profile_too_big)
{
    size_t len = WC_PROFILE_MAX_BYTES + 1;
    char *big = malloc(len);
    ck_assert_ptr_nonnull(big);
    memset(big, ' ', len);
    struct wc_profile *p = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(wc_profile_parse(big, len, NULL, &err, &p), LC_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "<profile>"));
    free(big);
}
END_TEST

START_TEST(address_check)
{
    struct lc_errbuf err;
    ck_assert_int_eq(wc_address_check("localhost:7051", &err), 0);
    ck_assert_int_eq(wc_address_check("[::1]:7051", &err), 0);
    ck_assert_int_eq(wc_address_check("10.0.0.1:65535", &err), 0);
    ck_assert_int_eq(wc_address_check("", &err), LC_EINVALID);
    ck_assert_int_eq(wc_address_check(":7051", &err), LC_EINVALID);
    ck_assert_int_eq(wc_address_check("host", &err), LC_EINVALID);
    ck_assert_int_eq(wc_address_check("host:", &err), LC_EINVALID);
    ck_assert_int_eq(wc_address_check("host:12a", &err), LC_EINVALID);
    ck_assert_int_eq(wc_address_check("ho st:1", &err), LC_EINVALID);
    ck_assert_int_eq(wc_address_check("[::1:7051", &err), LC_EINVALID);
    ck_assert_int_eq(wc_address_check("host:123456", &err), LC_EINVALID);
}
END_TEST

Suite *profile_suite(void)
{
    Suite *s = suite_create("profile");
    TCase *tc_ = tcase_create("profile");
    tcase_add_test(tc_, profile_full);
    tcase_add_test(tc_, profile_json);
    tcase_add_test(tc_, profile_no_channels_section);
    tcase_add_test(tc_, profile_load_file);
    tcase_add_loop_test(tc_, profile_rejects, 0, sizeof bad_profiles / sizeof bad_profiles[0]);
    tcase_add_test(tc_, profile_line_numbers);
    tcase_add_test(tc_, profile_too_big);
    tcase_add_test(tc_, address_check);
    suite_add_tcase(s, tc_);
    return s;
}

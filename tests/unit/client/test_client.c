/* SPDX-License-Identifier: Apache-2.0 */
/* Client SDK unit tests: the shared network fixture, hand-built endorser responses, main(). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcommon/crypto.h"
#include "libcommon/wire.h"
#include "peer/proposal.pb-c.h"
#include "tc.h"

extern char **environ;

struct tc_net tc;

static const char genesis_profile[] =
    "Orderer:\n"
    "  OrdererType: solo\n"
    "  Addresses: [127.0.0.1:7050]\n"
    "  Organizations:\n"
    "    - Name: OrdererOrg\n"
    "      ID: OrdererMSP\n"
    "      MSPDir: crypto/ordererOrganizations/example.com/msp\n"
    "Application:\n"
    "  Organizations:\n"
    "    - {Name: Org1, ID: Org1MSP, MSPDir: crypto/peerOrganizations/org1.example.com/msp}\n"
    "    - {Name: Org2, ID: Org2MSP, MSPDir: crypto/peerOrganizations/org2.example.com/msp}\n"
    "    - {Name: Org3, ID: Org3MSP, MSPDir: crypto/peerOrganizations/org3.example.com/msp}\n"
    "Chaincodes:\n"
    "  - {Name: basic, Version: '1.0', EndorsementPolicy: \"AND('Org1MSP.peer', "
    "'Org2MSP.peer')\"}\n"
    "  - {Name: anyone, Version: '1.0', EndorsementPolicy: \"OR('Org1MSP.peer', "
    "'Org2MSP.peer')\"}\n"
    "  - {Name: two3, Version: '1.0', EndorsementPolicy: \"OutOf(2, 'Org1MSP.peer', "
    "'Org2MSP.peer', 'Org3MSP.peer')\"}\n"
    "  - {Name: dual1, Version: '1.0', EndorsementPolicy: \"AND('Org1MSP.peer', "
    "'Org1MSP.peer')\"}\n"
    "  - {Name: admins, Version: '1.0', EndorsementPolicy: \"OR('Org1MSP.admin')\"}\n"
    "  - {Name: mixed, Version: '1.0', EndorsementPolicy: \"OR(AND('Org1MSP.member', "
    "'Org3MSP.peer'), 'Org2MSP.peer')\"}\n"
    "  - {Name: ref, Version: '1.0', EndorsementPolicyRef: /Channel/Application/Endorsement}\n";

/* ---- fixture -------------------------------------------------------------------------------- */

static int run_weft(const char *cwd, const char *const args[])
{
    const char *root = getenv("WEFT_BUILD_ROOT");
    if (!root) {
        fprintf(stderr, "WEFT_BUILD_ROOT is not set (run through meson test)\n");
        return -1;
    }
    char exe[4096];
    snprintf(exe, sizeof exe, "%s/cli/weft", root);
    char *argv[32] = {exe};
    size_t n = 1;
    for (; args[n - 1] && n < 31; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
    pid_t pid;
    int r = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r != 0) {
        fprintf(stderr, "spawn %s: %s\n", exe, strerror(r));
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int make_net(void)
{
    tc.dir = strdup("/tmp/weft-client-test-XXXXXX");
    if (!tc.dir || !mkdtemp(tc.dir))
        return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/profile.yaml", tc.dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(genesis_profile, f) < 0 || fclose(f) != 0)
        return -1;
    if (run_weft(tc.dir, (const char *[]){"cryptogen", "--output", "crypto", "--peer-orgs", "3",
                                          "--peers-per-org", "2", "--users", "1", "--orderers", "1",
                                          NULL}) != 0)
        return -1;
    if (run_weft(tc.dir, (const char *[]){"genesis", "--profile", "profile.yaml", "--channel",
                                          "mychannel", "--output", "mychannel.block", NULL}) != 0)
        return -1;
    if (run_weft(tc.dir, (const char *[]){"genesis", "--profile", "profile.yaml", "--channel",
                                          "other", "--output", "other.block", NULL}) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/mychannel.block", tc.dir);
    tc.genesis = strdup(path);
    snprintf(path, sizeof path, "%s/other.block", tc.dir);
    tc.other = strdup(path);
    return tc.genesis && tc.other ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

const char *tc_path(const char *fmt, ...)
{
    static char bufs[8][4096];
    static unsigned next;
    char *b = bufs[next++ % 8];
    int n = snprintf(b, sizeof bufs[0], "%s/", tc.dir);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + n, sizeof bufs[0] - (size_t)n, fmt, ap);
    va_end(ap);
    return b;
}

struct lc_chconf *tc_chconf(void)
{
    struct lc_chconf *c = NULL;
    struct lc_errbuf err;
    ck_assert_msg(wc_chconf_load(tc.genesis, &err, &c) == 0, "chconf: %s", err.msg);
    return c;
}

static struct lc_signer *load(const char *dir, const char *mspid)
{
    struct lc_signer *s = NULL;
    struct lc_errbuf err;
    ck_assert_msg(lc_signer_load(dir, mspid, &err, &s) == 0, "signer %s: %s", dir, err.msg);
    return s;
}

struct lc_signer *tc_peer(int org, int n)
{
    char mspid[16];
    snprintf(mspid, sizeof mspid, "Org%dMSP", org);
    return load(tc_path("crypto/peerOrganizations/org%d.example.com/peers/peer%d.org%d.example.com/"
                        "msp",
                        org, n, org),
                mspid);
}

struct lc_signer *tc_user(int org, const char *user)
{
    char mspid[16];
    snprintf(mspid, sizeof mspid, "Org%dMSP", org);
    return load(tc_path("crypto/peerOrganizations/org%d.example.com/users/%s@org%d.example.com/msp",
                        org, user, org),
                mspid);
}

struct lc_signer *tc_orderer(void)
{
    return load(tc_path("crypto/ordererOrganizations/example.com/orderers/orderer0.example.com/"
                        "msp"),
                "OrdererMSP");
}

struct wc_proposal *tc_proposal(const struct lc_signer *user, const char *chaincode)
{
    ProtobufCBinaryData args[] = {{3, (uint8_t *)"put"}, {1, (uint8_t *)"k"}, {1, (uint8_t *)"v"}};
    struct wc_invocation inv = {
        .channel = "mychannel",
        .chaincode = chaincode,
        .args = args,
        .n_args = 3,
    };
    struct wc_proposal *p = NULL;
    struct lc_errbuf err;
    ck_assert_msg(wc_proposal_new(user, &inv, &err, &p) == 0, "proposal: %s", err.msg);
    return p;
}

static ProtobufCBinaryData bin(const char *s)
{
    return (ProtobufCBinaryData){strlen(s), (uint8_t *)s};
}

ProtobufCBinaryData tc_response(const struct wc_proposal *prop, const struct lc_signer *signer,
                                const struct tc_resp *o)
{
    return tc_response_for(wc_proposal_hash(prop), wc_proposal_chaincode(prop), signer, o);
}

ProtobufCBinaryData tc_response_for(const uint8_t hash[32], const char *chaincode,
                                    const struct lc_signer *signer, const struct tc_resp *o)
{
    struct lc_errbuf err;
    Protos__Response cc_resp = PROTOS__RESPONSE__INIT;
    cc_resp.status = o->status;
    cc_resp.message = (char *)(o->message ? o->message : "");
    cc_resp.payload = bin(o->payload ? o->payload : "");
    Protos__ChaincodeID id = PROTOS__CHAINCODE_ID__INIT;
    id.name = (char *)chaincode;
    id.version = "1.0";
    Protos__ChaincodeAction act = PROTOS__CHAINCODE_ACTION__INIT;
    act.results = bin(o->results ? o->results : "rwset");
    act.response = &cc_resp;
    act.chaincode_id = &id;
    uint8_t *act_bytes;
    size_t act_len;
    ck_assert_int_eq(lc_wire_pack(&act.base, 1 << 20, &act_bytes, &act_len, &err), 0);
    Protos__ProposalResponsePayload prp = PROTOS__PROPOSAL_RESPONSE_PAYLOAD__INIT;
    prp.proposal_hash = (ProtobufCBinaryData){32, (uint8_t *)(o->hash ? o->hash : hash)};
    prp.extension = (ProtobufCBinaryData){act_len, act_bytes};
    uint8_t *prp_bytes;
    size_t prp_len;
    ck_assert_int_eq(lc_wire_pack(&prp.base, 1 << 20, &prp_bytes, &prp_len, &err), 0);
    if (o->raw_prp) {
        free(prp_bytes);
        prp_len = o->raw_len;
        prp_bytes = malloc(prp_len + 1);
        memcpy(prp_bytes, o->raw_prp, prp_len);
    }

    size_t id_len;
    const uint8_t *id_bytes = lc_signer_serialized(signer, &id_len);
    uint8_t sig[LC_ECDSA_SIG_MAX];
    size_t sig_len;
    const struct lc_iov signed_parts[] = {{prp_bytes, prp_len}, {id_bytes, id_len}};
    const struct lc_iov wrong[] = {{prp_bytes, prp_len}};
    ck_assert_int_eq(lc_signer_sign_iov(signer, o->corrupt_sig ? wrong : signed_parts,
                                        o->corrupt_sig ? 1 : 2, sig, &sig_len),
                     0);
    Protos__Endorsement e = PROTOS__ENDORSEMENT__INIT;
    e.endorser = (ProtobufCBinaryData){id_len, (uint8_t *)id_bytes};
    e.signature = (ProtobufCBinaryData){sig_len, sig};

    Protos__Response outer = cc_resp;
    if (o->outer_payload)
        outer.payload = bin(o->outer_payload);
    Protos__ProposalResponse pr = PROTOS__PROPOSAL_RESPONSE__INIT;
    pr.response = &outer;
    if (o->status < 400) {
        pr.version = 1;
        pr.payload = (ProtobufCBinaryData){prp_len, prp_bytes};
        pr.endorsement = o->no_endorsement ? NULL : &e;
    }
    ProtobufCBinaryData out;
    ck_assert_int_eq(lc_wire_pack(&pr.base, 1 << 20, &out.data, &out.len, &err), 0);
    free(act_bytes);
    free(prp_bytes);
    return out;
}

int main(void)
{
    if (make_net() < 0) {
        fprintf(stderr, "test_client: could not make the test network under %s\n",
                tc.dir ? tc.dir : "/tmp");
        return 1;
    }
    SRunner *sr = srunner_create(profile_suite());
    srunner_add_suite(sr, proposal_suite());
    srunner_add_suite(sr, validate_suite());
    srunner_add_suite(sr, tx_suite());
    srunner_add_suite(sr, select_suite());
    srunner_add_suite(sr, net_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nftw(tc.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(tc.dir);
    free(tc.genesis);
    free(tc.other);
    return failed ? 1 : 0;
}

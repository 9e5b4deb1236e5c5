/* SPDX-License-Identifier: Apache-2.0 */
/* The orderer daemon on real sockets: Broadcast checks, Deliver seeks, restart after SIGKILL. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "libcommon/crypto.h"
#include "libcommon/wire.h"
#include "otest.h"

/* A network and one orderer daemon serving its channel. */
struct od {
    struct wh_net net;
    int port;
    const char *target;
    const char *data;
    struct wh_proc *p;
    struct lc_signer *orderer, *user;
};

static void od_net(struct od *o, const struct wh_net_opts *opts)
{
    memset(o, 0, sizeof *o);
    struct wh_net_opts def = {.orgs = 1, .peers_per_org = 1};
    ck_assert_int_eq(wh_net_make(&o->net, opts ? opts : &def), 0);
    o->data = wh_join(o->net.dir, "data");
    o->orderer = ot_signer(wh_orderer_msp(&o->net, 0), "OrdererMSP");
    o->user = ot_signer(wh_user_msp(&o->net, 1, "User1"), "Org1MSP");
}

struct listen_wait {
    struct wh_proc *p;
    int before;
};

static bool listening_again(void *arg)
{
    struct listen_wait *w = arg;
    return wh_log_count(w->p, "orderer listening") > w->before || !wh_running(w->p);
}

/* Waits for one more "orderer listening" line than `before` (the log is appended to across
 * restarts). */
static void od_wait_listening(struct od *o, int before)
{
    struct listen_wait w = {o->p, before};
    ck_assert_int_eq(wh_wait_until(listening_again, &w, 30000), 0);
    ck_assert_msg(wh_log_count(o->p, "orderer listening") > before, "orderer did not start, see %s",
                  wh_log_path(o->p));
}

static void od_restart(struct od *o)
{
    int before = wh_log_count(o->p, "orderer listening");
    ck_assert_int_eq(wh_restart(o->p), 0);
    od_wait_listening(o, before);
}

/* Starts the daemon with --genesis <the net's block> unless extra gives other genesis flags. */
static void od_start(struct od *o, const char *const extra[])
{
    o->port = wh_free_port();
    o->target = wh_fmt("127.0.0.1:%d", o->port);
    const char *argv[32] = {wh_bin("services/orderer/orderer"),
                            "--listen",
                            o->target,
                            "--msp-dir",
                            wh_orderer_msp(&o->net, 0),
                            "--mspid",
                            "OrdererMSP",
                            "--data-dir",
                            o->data};
    size_t n = 9;
    bool genesis_given = false;
    for (size_t i = 0; extra && extra[i]; i++) {
        if (strncmp(extra[i], "--genesis", 9) == 0)
            genesis_given = true;
        argv[n++] = extra[i];
    }
    if (!genesis_given) {
        argv[n++] = "--genesis";
        argv[n++] = o->net.genesis;
    }
    argv[n] = NULL;
    int before = o->p ? wh_log_count(o->p, "orderer listening") : 0;
    o->p = wh_spawn("orderer", o->net.dir, argv, NULL);
    ck_assert_ptr_nonnull(o->p);
    od_wait_listening(o, before);
}

/* SIGTERM; the daemon (built with the sanitizers in CI) must exit 0: no leak, no error. */
static void od_stop(struct od *o)
{
    int st = wh_stop(o->p, SIGTERM, 30000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "orderer exit status %d, see %s", st,
                  wh_log_path(o->p));
}

static void od_done(struct od *o)
{
    lc_signer_free(o->orderer);
    lc_signer_free(o->user);
    wh_cleanup();
}

static uint8_t *slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *ret_len = (size_t)n;
    return buf;
}

/* A signer with a fresh key and a certificate from an org's CA (or self-signed when ca_dir is
 * NULL), with one OU and the given validity window. */
static struct lc_signer *issued(const char *ca_dir, const char *mspid, const char *ou, bool expired)
{
    time_t now = time(NULL), not_before = now - 60, not_after = now + 3600;
    struct lc_errbuf err = {{0}};
    struct lc_cert *ca = NULL;
    struct lc_privkey *ca_key = NULL, *key = NULL;
    ck_assert_int_eq(lc_privkey_generate(&key), 0);
    if (ca_dir) {
        size_t len = 0;
        uint8_t *pem = slurp(wh_fmt("%s/priv_sk", ca_dir), &len);
        ck_assert_int_eq(lc_privkey_from_pem(pem, len, &err, &ca_key), 0);
        free(pem);
        /* cryptogen's layout: <org dir>/ca/ca.<org dir name>-cert.pem */
        char org[256];
        snprintf(org, sizeof org, "%s", ca_dir);
        *strrchr(org, '/') = '\0';
        const char *name = strrchr(org, '/') + 1;
        pem = slurp(wh_fmt("%s/ca.%s-cert.pem", ca_dir, name), &len);
        ck_assert_int_eq(lc_cert_from_pem(pem, len, &err, &ca), 0);
        free(pem);
        /* MSPs verify a chain as of the leaf's NotBefore: it must not precede the CA's */
        not_before = lc_cert_not_before(ca) + 1;
        if (expired)
            not_after = not_before + 60; /* the CA starts 5 minutes in the past */
    }
    const char *ous[1] = {ou};
    struct lc_cert_template t = {.kind = LC_CERT_SIGN,
                                 .country = "US",
                                 .organization = "test",
                                 .ous = ou ? ous : NULL,
                                 .n_ous = ou ? 1 : 0,
                                 .common_name = "someone",
                                 .not_before = not_before,
                                 .not_after = not_after};
    struct lc_cert *cert = NULL;
    ck_assert_msg(lc_cert_issue(&t, lc_privkey_public(key), ca, ca ? ca_key : key, &err, &cert) ==
                      0,
                  "issue: %s", err.msg);
    char *cert_pem = NULL, *key_pem = NULL;
    size_t cert_len = 0, key_len = 0;
    ck_assert_int_eq(lc_cert_to_pem(cert, &cert_pem, &cert_len), 0);
    ck_assert_int_eq(lc_privkey_to_pem(key, &key_pem, &key_len), 0);
    struct lc_signer *s = NULL;
    ck_assert_msg(lc_signer_new(mspid, cert_pem, cert_len, key_pem, key_len, &err, &s) == 0,
                  "signer: %s", err.msg);
    free(cert_pem);
    lc_privkey_pem_free(key_pem);
    lc_cert_unref(cert);
    lc_cert_unref(ca);
    lc_privkey_free(key);
    lc_privkey_free(ca_key);
    return s;
}

static const char *org1_ca(const struct od *o)
{
    return wh_fmt("%s/peerOrganizations/org1.example.com/ca", o->net.crypto);
}

/* Broadcasts n envelopes of `size` bytes on one stream, all answered SUCCESS in order; the
 * txids go to txids[0..n) when given (caller frees each). */
static void broadcast_n(const struct od *o, const char *channel, int n, size_t size, char **txids)
{
    struct ot_stream s;
    ot_open(&s, o->target, OT_BROADCAST);
    for (int i = 0; i < n; i++) {
        Common__Envelope *e = ot_tx(o->user, channel, size);
        if (txids) {
            Common__Payload *p = common__payload__unpack(NULL, e->payload.len, e->payload.data);
            Common__ChannelHeader *ch = common__channel_header__unpack(
                NULL, p->header->channel_header.len, p->header->channel_header.data);
            txids[i] = strdup(ch->tx_id);
            common__channel_header__free_unpacked(ch, NULL);
            common__payload__free_unpacked(p, NULL);
        }
        ot_send(&s, e);
        common__envelope__free_unpacked(e, NULL);
    }
    for (int i = 0; i < n; i++) {
        char info[300];
        ck_assert_int_eq(ot_recv_status(&s, info, sizeof info, NULL), COMMON__STATUS__SUCCESS);
    }
    ck_assert_int_eq(lc_rpc_stream_close_send(s.stream, 30000), 0);
    ot_close(&s);
}

static Common__Envelope *seek(const struct od *o, enum ot_pos start, uint64_t a, enum ot_pos stop,
                              uint64_t b, bool fail_if_not_ready)
{
    struct ot_seek_spec sp = {.channel = o->net.channel,
                              .start = start,
                              .start_n = a,
                              .stop = stop,
                              .stop_n = b,
                              .fail_if_not_ready = fail_if_not_ready,
                              .signer = o->user};
    return ot_seek(&sp);
}

/* Delivers and checks: the status, and the block numbers "first..last" (or none). */
static void expect_deliver(const struct od *o, Common__Envelope *sk, int status, int64_t first,
                           int64_t last)
{
    Common__Block **b = NULL;
    size_t n = 0;
    ck_assert_int_eq(ot_deliver(o->target, sk, &b, &n), status);
    size_t want = first < 0 ? 0 : (size_t)(last - first + 1);
    ck_assert_msg(n == want, "got %zu blocks, want %zu", n, want);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(b[i]->header->number, (uint64_t)first + i);
    ot_blocks_free(b, n);
}

/* Waits until the chain has `height` blocks: a blocking Deliver from the oldest block, read up
 * to block height-1 (a start past the next block would be NOT_FOUND, as in Fabric). */
static void wait_height(const struct od *o, uint64_t height)
{
    struct ot_stream s;
    ot_open(&s, o->target, OT_DELIVER);
    Common__Envelope *sk = seek(o, OT_OLDEST, 0, OT_SPECIFIED, height - 1, false);
    ot_send(&s, sk);
    common__envelope__free_unpacked(sk, NULL);
    for (uint64_t k = 0; k < height; k++) {
        int code = 0;
        Orderer__DeliverResponse *r = ot_recv_deliver(&s, 60000, &code);
        ck_assert_msg(r != NULL, "waiting for block %llu: %s", (unsigned long long)k,
                      lc_strerror(code));
        ck_assert_int_eq(r->type_case, ORDERER__DELIVER_RESPONSE__TYPE_BLOCK);
        ck_assert_uint_eq(r->block->header->number, k);
        orderer__deliver_response__free_unpacked(r, NULL);
    }
    ot_close(&s);
}

/* ---- tests ------------------------------------------------------------------------------- */

START_TEST(broadcast_then_deliver_signed_blocks)
{
    struct od o;
    od_net(&o, NULL);
    od_start(&o, NULL);
    char *txids[25];
    broadcast_n(&o, "mychannel", 25, 200, txids);
    wait_height(&o, 4); /* 10 + 10 by count, 5 by BatchTimeout */
    Common__Block **b = NULL;
    size_t n = 0;
    ck_assert_int_eq(ot_deliver(o.target, seek(&o, OT_OLDEST, 0, OT_NEWEST, 0, false), &b, &n),
                     COMMON__STATUS__SUCCESS);
    ck_assert_uint_eq(n, 4);
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        ck_assert_uint_eq(ot_check_block(b[i], b[i - 1], o.orderer), 0);
        for (size_t j = 0; j < b[i]->data->n_data; j++, k++) {
            char *t = ot_block_txid(b[i], j);
            ck_assert_str_eq(t, txids[k]); /* one stream's envelopes keep their order */
            free(t);
        }
    }
    ck_assert_uint_eq(k, 25);
    for (int i = 0; i < 25; i++)
        free(txids[i]);
    /* block 0 is the genesis block exactly */
    size_t glen = 0;
    uint8_t *g = slurp(o.net.genesis, &glen);
    size_t plen = 0;
    uint8_t *p0 = ot_pack(&b[0]->base, &plen);
    ck_assert_uint_eq(plen, glen);
    ck_assert(memcmp(p0, g, glen) == 0);
    free(p0);
    free(g);
    ot_blocks_free(b, n);
    od_stop(&o);
    od_done(&o);
}
END_TEST

static void expect_reject(const struct od *o, Common__Envelope *e, int status, const char *needle)
{
    char info[400] = "";
    int st = ot_broadcast_one(o->target, e, info, sizeof info);
    ck_assert_msg(st == status, "status %d, want %d (info \"%s\")", st, status, info);
    if (needle)
        ck_assert_msg(strstr(info, needle) != NULL, "info \"%s\" lacks \"%s\"", info, needle);
    common__envelope__free_unpacked(e, NULL);
}

START_TEST(broadcast_rejections)
{
    struct od o;
    struct wh_net_opts opts = {
        .orgs = 1, .peers_per_org = 1, .absolute_max = "64 KB", .preferred_max = "32 KB"};
    od_net(&o, &opts);
    od_start(&o, NULL);
    struct ot_env_spec sp = {.channel = "mychannel",
                             .type = COMMON__HEADER_TYPE__ENDORSER_TRANSACTION,
                             .data = (const uint8_t *)"x",
                             .data_len = 1,
                             .signer = o.user};
    struct ot_env_spec v;

    /* the payload does not decode */
    Common__Envelope *e = ot_tx(o.user, "mychannel", 10);
    free(e->payload.data);
    e->payload.data = (uint8_t *)strdup("\xff\xff\xff");
    e->payload.len = 3;
    expect_reject(&o, e, COMMON__STATUS__BAD_REQUEST, "Payload");
    /* no payload at all */
    e = ot_tx(o.user, "mychannel", 10);
    e->payload.len = 0;
    expect_reject(&o, e, COMMON__STATUS__BAD_REQUEST, "no payload");
    v = sp;
    v.no_header = true;
    expect_reject(&o, ot_envelope(&v), COMMON__STATUS__BAD_REQUEST, "no header");
    v = sp;
    v.garbage_chdr = true;
    expect_reject(&o, ot_envelope(&v), COMMON__STATUS__BAD_REQUEST, "ChannelHeader");
    v = sp;
    v.type = COMMON__HEADER_TYPE__CONFIG_UPDATE;
    expect_reject(&o, ot_envelope(&v), COMMON__STATUS__BAD_REQUEST, "not supported");
    v.type = COMMON__HEADER_TYPE__CONFIG;
    expect_reject(&o, ot_envelope(&v), COMMON__STATUS__BAD_REQUEST, "cannot be processed");
    v.type = COMMON__HEADER_TYPE__ORDERER_TRANSACTION;
    expect_reject(&o, ot_envelope(&v), COMMON__STATUS__BAD_REQUEST, "cannot be processed");
    v = sp;
    v.channel = "nosuchchannel";
    expect_reject(&o, ot_envelope(&v), COMMON__STATUS__NOT_FOUND, "not found");
    /* over AbsoluteMaxBytes (64 KB): payload + signature counted */
    expect_reject(&o, ot_tx(o.user, "mychannel", 64 * 1024), COMMON__STATUS__BAD_REQUEST,
                  "AbsoluteMaxBytes");
    /* an expired client certificate from the org's own CA */
    struct lc_signer *expired = issued(org1_ca(&o), "Org1MSP", "client", true);
    v = sp;
    v.signer = expired;
    expect_reject(&o, ot_envelope(&v), COMMON__STATUS__BAD_REQUEST, "expired");
    /* an MSP the channel does not know */
    struct lc_signer *stranger = issued(org1_ca(&o), "NoSuchMSP", "client", false);
    v.signer = stranger;
    expect_reject(&o, ot_envelope(&v), COMMON__STATUS__FORBIDDEN, "not a valid identity");
    /* a certificate from a CA that is not Org1's */
    struct lc_signer *foreign = issued(NULL, "Org1MSP", "client", false);
    v.signer = foreign;
    expect_reject(&o, ot_envelope(&v), COMMON__STATUS__FORBIDDEN, "not a valid identity");
    /* a bad signature, and none */
    v = sp;
    v.bad_sig = true;
    expect_reject(&o, ot_envelope(&v), COMMON__STATUS__FORBIDDEN, "signature");
    e = ot_tx(o.user, "mychannel", 10);
    e->signature.len = 0;
    expect_reject(&o, e, COMMON__STATUS__FORBIDDEN, "signature");
    /* a valid Org1 identity that is no writer: the orderer role is not in Org1's Writers */
    struct lc_signer *nonwriter = issued(org1_ca(&o), "Org1MSP", "orderer", false);
    v = sp;
    v.signer = nonwriter;
    expect_reject(&o, ot_envelope(&v), COMMON__STATUS__FORBIDDEN, "/Channel/Writers");
    /* and the good one still goes through */
    expect_reject(&o, ot_envelope(&sp), COMMON__STATUS__SUCCESS, NULL);
    lc_signer_free(expired);
    lc_signer_free(stranger);
    lc_signer_free(foreign);
    lc_signer_free(nonwriter);
    od_stop(&o);
    od_done(&o);
}
END_TEST

START_TEST(bad_message_closes_only_its_own_stream)
{
    struct od o;
    od_net(&o, NULL);
    od_start(&o, NULL);
    struct ot_stream good, bad, junk;
    ot_open(&good, o.target, OT_BROADCAST);
    ot_open(&bad, o.target, OT_BROADCAST);
    ot_open(&junk, o.target, OT_BROADCAST);
    Common__Envelope *e = ot_tx(o.user, "mychannel", 10);
    ot_send(&good, e);
    ck_assert_int_eq(ot_recv_status(&good, NULL, 0, NULL), COMMON__STATUS__SUCCESS);
    common__envelope__free_unpacked(e, NULL);

    struct ot_env_spec sp = {
        .channel = "mychannel", .type = COMMON__HEADER_TYPE__CONFIG_UPDATE, .signer = o.user};
    e = ot_envelope(&sp);
    ot_send(&bad, e);
    common__envelope__free_unpacked(e, NULL);
    /* a message after the bad one is never answered: the stream ends after the failure */
    e = ot_tx(o.user, "mychannel", 10);
    lc_rpc_stream_send(bad.stream, &e->base, 30000);
    int end = 0;
    ck_assert_int_eq(ot_recv_status(&bad, NULL, 0, &end), COMMON__STATUS__BAD_REQUEST);
    ck_assert_int_eq(ot_recv_status(&bad, NULL, 0, &end), -1);
    ck_assert_int_eq(end, LC_ECLOSED); /* ended with status OK, as Fabric's handler does */

    /* bytes that are not an Envelope at all: the RPC layer ends that call with
     * INVALID_ARGUMENT (Fabric's gRPC does likewise) */
    Common__LastConfig notenv = COMMON__LAST_CONFIG__INIT;
    notenv.index = 5; /* field 1 as a varint: Envelope.payload must be length-delimited */
    ck_assert_int_eq(lc_rpc_stream_send(junk.stream, &notenv.base, 30000), 0);
    ck_assert_int_eq(ot_recv_status(&junk, NULL, 0, &end), -1);
    ck_assert_int_eq(end, LC_EINVALID);

    /* the good stream is untouched */
    ot_send(&good, e);
    ck_assert_int_eq(ot_recv_status(&good, NULL, 0, NULL), COMMON__STATUS__SUCCESS);
    common__envelope__free_unpacked(e, NULL);
    ot_close(&good);
    ot_close(&bad);
    ot_close(&junk);
    od_stop(&o);
    od_done(&o);
}
END_TEST

START_TEST(deliver_seek_modes)
{
    struct od o;
    od_net(&o, NULL);
    od_start(&o, NULL);
    broadcast_n(&o, "mychannel", 30, 100, NULL);
    wait_height(&o, 4); /* blocks 0..3 */
    expect_deliver(&o, seek(&o, OT_OLDEST, 0, OT_NEWEST, 0, false), 200, 0, 3);
    expect_deliver(&o, seek(&o, OT_NEWEST, 0, OT_NEWEST, 0, false), 200, 3, 3);
    expect_deliver(&o, seek(&o, OT_OLDEST, 0, OT_OLDEST, 0, false), 200, 0, 0);
    expect_deliver(&o, seek(&o, OT_SPECIFIED, 1, OT_SPECIFIED, 2, false), 200, 1, 2);
    expect_deliver(&o, seek(&o, OT_SPECIFIED, 2, OT_NEWEST, 0, false), 200, 2, 3);
    expect_deliver(&o, seek(&o, OT_SPECIFIED, 2, OT_SPECIFIED, 2, true), 200, 2, 2);
    /* FAIL_IF_NOT_READY past the tip: what exists, then NOT_FOUND */
    expect_deliver(&o, seek(&o, OT_SPECIFIED, 2, OT_SPECIFIED, 10, true), 404, 2, 3);
    expect_deliver(&o, seek(&o, OT_SPECIFIED, 4, OT_SPECIFIED, 4, true), 404, -1, -1);
    /* a start past the next block is NOT_FOUND even when blocking (Fabric's ledger) */
    expect_deliver(&o, seek(&o, OT_SPECIFIED, 9, OT_SPECIFIED, 12, false), 404, -1, -1);
    /* malformed requests */
    expect_deliver(&o, seek(&o, OT_SPECIFIED, 3, OT_SPECIFIED, 2, false), 400, -1, -1);
    expect_deliver(&o, seek(&o, OT_UNSET, 0, OT_NEWEST, 0, false), 400, -1, -1);
    expect_deliver(&o, seek(&o, OT_OLDEST, 0, OT_UNSET, 0, false), 400, -1, -1);
    struct ot_seek_spec sp = {
        .channel = "mychannel", .start = OT_OLDEST, .stop = OT_NEWEST, .signer = o.user};
    struct ot_seek_spec v = sp;
    v.channel = "nosuchchannel";
    expect_deliver(&o, ot_seek(&v), 404, -1, -1);
    v = sp;
    v.type = COMMON__HEADER_TYPE__ENDORSER_TRANSACTION;
    expect_deliver(&o, ot_seek(&v), 400, -1, -1);
    v = sp;
    v.ts = -1;
    expect_deliver(&o, ot_seek(&v), 400, -1, -1);
    v.ts = time(NULL) - 16 * 60; /* outside the default 15 minute window */
    expect_deliver(&o, ot_seek(&v), 400, -1, -1);
    v.ts = time(NULL) + 16 * 60;
    expect_deliver(&o, ot_seek(&v), 400, -1, -1);
    v.ts = time(NULL) - 14 * 60;
    expect_deliver(&o, ot_seek(&v), 200, 0, 3);

    /* BLOCK_UNTIL_READY: the stream waits at the tip and gets the next block when it is cut;
     * stop 2^63-1 (Node SDK) and UINT64_MAX (Go SDK) both mean never */
    struct ot_stream w1, w2;
    ot_open(&w1, o.target, OT_DELIVER);
    ot_open(&w2, o.target, OT_DELIVER);
    Common__Envelope *s1 = seek(&o, OT_SPECIFIED, 4, OT_SPECIFIED, INT64_MAX, false);
    Common__Envelope *s2 = seek(&o, OT_NEWEST, 0, OT_SPECIFIED, UINT64_MAX, false);
    ot_send(&w1, s1);
    ot_send(&w2, s2);
    int code = 0;
    Orderer__DeliverResponse *r = ot_recv_deliver(&w2, -1, &code);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->block->header->number, 3);
    orderer__deliver_response__free_unpacked(r, NULL);
    ck_assert_ptr_null(ot_recv_deliver(&w1, 300, &code)); /* nothing yet */
    ck_assert_int_eq(code, -EAGAIN);
    broadcast_n(&o, "mychannel", 10, 100, NULL);
    for (int i = 0; i < 2; i++) {
        r = ot_recv_deliver(i ? &w2 : &w1, -1, &code);
        ck_assert_msg(r != NULL, "no block 4: %s", lc_strerror(code));
        ck_assert_int_eq(r->type_case, ORDERER__DELIVER_RESPONSE__TYPE_BLOCK);
        ck_assert_uint_eq(r->block->header->number, 4);
        orderer__deliver_response__free_unpacked(r, NULL);
    }
    common__envelope__free_unpacked(s1, NULL);
    common__envelope__free_unpacked(s2, NULL);
    ot_close(&w1);
    ot_close(&w2);

    /* after SUCCESS the same stream takes another SeekInfo; a half-close then ends it */
    struct ot_stream st;
    ot_open(&st, o.target, OT_DELIVER);
    for (uint64_t k = 1; k <= 2; k++) {
        Common__Envelope *sk = seek(&o, OT_SPECIFIED, k, OT_SPECIFIED, k, false);
        ot_send(&st, sk);
        common__envelope__free_unpacked(sk, NULL);
        r = ot_recv_deliver(&st, -1, &code);
        ck_assert_ptr_nonnull(r);
        ck_assert_uint_eq(r->block->header->number, k);
        orderer__deliver_response__free_unpacked(r, NULL);
        r = ot_recv_deliver(&st, -1, &code);
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(r->type_case, ORDERER__DELIVER_RESPONSE__TYPE_STATUS);
        ck_assert_int_eq(r->status, COMMON__STATUS__SUCCESS);
        orderer__deliver_response__free_unpacked(r, NULL);
    }
    ck_assert_int_eq(lc_rpc_stream_close_send(st.stream, 30000), 0);
    ck_assert_ptr_null(ot_recv_deliver(&st, -1, &code));
    ck_assert_int_eq(code, LC_ECLOSED);
    ot_close(&st);
    od_stop(&o);
    od_done(&o);
}
END_TEST

START_TEST(deliver_readers_check)
{
    struct od o;
    od_net(&o, NULL);
    od_start(&o, NULL);
    struct ot_seek_spec sp = {
        .channel = "mychannel", .start = OT_OLDEST, .stop = OT_OLDEST, .signer = o.user};
    struct ot_seek_spec v = sp;
    v.bad_sig = true;
    expect_deliver(&o, ot_seek(&v), 403, -1, -1);
    struct lc_signer *nonreader = issued(org1_ca(&o), "Org1MSP", "orderer", false);
    struct lc_signer *expired = issued(org1_ca(&o), "Org1MSP", "client", true);
    struct lc_signer *foreign = issued(NULL, "Org1MSP", "client", false);
    v = sp;
    v.signer = nonreader;
    expect_deliver(&o, ot_seek(&v), 403, -1, -1);
    v.signer = expired;
    expect_deliver(&o, ot_seek(&v), 403, -1, -1);
    v.signer = foreign;
    expect_deliver(&o, ot_seek(&v), 403, -1, -1);
    /* the orderer's own identity and an org admin are readers */
    v.signer = o.orderer;
    expect_deliver(&o, ot_seek(&v), 200, 0, 0);
    struct lc_signer *admin = ot_signer(wh_user_msp(&o.net, 1, "Admin"), "Org1MSP");
    v.signer = admin;
    expect_deliver(&o, ot_seek(&v), 200, 0, 0);
    lc_signer_free(admin);
    lc_signer_free(nonreader);
    lc_signer_free(expired);
    lc_signer_free(foreign);
    od_stop(&o);
    od_done(&o);
}
END_TEST

START_TEST(slow_reader_never_blocks_ordering)
{
    struct od o;
    struct wh_net_opts opts = {.orgs = 1, .peers_per_org = 1, .max_message_count = 5};
    od_net(&o, &opts);
    od_start(&o, NULL);
    /* many streams wait at the tip; one never reads */
    enum { N = 12 };
    struct ot_stream w[N], slow;
    for (int i = 0; i < N; i++) {
        ot_open(&w[i], o.target, OT_DELIVER);
        Common__Envelope *sk = seek(&o, OT_SPECIFIED, 1, OT_SPECIFIED, UINT64_MAX, false);
        ot_send(&w[i], sk);
        common__envelope__free_unpacked(sk, NULL);
    }
    ot_open(&slow, o.target, OT_DELIVER);
    Common__Envelope *sk = seek(&o, OT_OLDEST, 0, OT_SPECIFIED, UINT64_MAX, false);
    ot_send(&slow, sk);
    common__envelope__free_unpacked(sk, NULL);
    /* 60 blocks of 5 x 8 KiB: far more than the slow stream's windows and send queue */
    broadcast_n(&o, "mychannel", 300, 8 * 1024, NULL);
    wait_height(&o, 61);
    for (int i = 0; i < N; i++) {
        for (uint64_t k = 1; k <= 60; k++) {
            int code = 0;
            Orderer__DeliverResponse *r = ot_recv_deliver(&w[i], -1, &code);
            ck_assert_msg(r != NULL, "stream %d block %llu: %s", i, (unsigned long long)k,
                          lc_strerror(code));
            ck_assert_uint_eq(r->block->header->number, k);
            orderer__deliver_response__free_unpacked(r, NULL);
        }
        ot_close(&w[i]);
    }
    /* the slow reader still gets everything, in order */
    for (uint64_t k = 0; k <= 60; k++) {
        int code = 0;
        Orderer__DeliverResponse *r = ot_recv_deliver(&slow, -1, &code);
        ck_assert_msg(r != NULL, "slow block %llu: %s", (unsigned long long)k, lc_strerror(code));
        ck_assert_uint_eq(r->block->header->number, k);
        orderer__deliver_response__free_unpacked(r, NULL);
    }
    ot_close(&slow);
    od_stop(&o);
    od_done(&o);
}
END_TEST

/* Packs a block back: the store's bytes (our blocks are canonical protobuf-c output). */
static uint8_t *block_bytes(const Common__Block *b, size_t *ret_len)
{
    return ot_pack(&b->base, ret_len);
}

START_TEST(restart_after_sigkill_keeps_every_served_block)
{
    struct od o;
    struct wh_net_opts opts = {.orgs = 1, .peers_per_org = 1, .max_message_count = 4};
    od_net(&o, &opts);
    od_start(&o, NULL);
    struct ot_stream d;
    ot_open(&d, o.target, OT_DELIVER);
    Common__Envelope *sk = seek(&o, OT_OLDEST, 0, OT_SPECIFIED, UINT64_MAX, false);
    ot_send(&d, sk);
    common__envelope__free_unpacked(sk, NULL);

    /* a stream of broadcasts, answered; then more in flight when the orderer is killed */
    struct ot_stream b;
    ot_open(&b, o.target, OT_BROADCAST);
    for (int i = 0; i < 40; i++) {
        Common__Envelope *e = ot_tx(o.user, "mychannel", 300);
        ot_send(&b, e);
        common__envelope__free_unpacked(e, NULL);
    }
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(ot_recv_status(&b, NULL, 0, NULL), COMMON__STATUS__SUCCESS);
    Common__Block *served[200];
    size_t n_served = 0;
    for (;;) { /* block 0 and the 10 full blocks at least */
        int code = 0;
        Orderer__DeliverResponse *r = ot_recv_deliver(&d, n_served < 11 ? -1 : 200, &code);
        if (!r)
            break;
        ck_assert_int_eq(r->type_case, ORDERER__DELIVER_RESPONSE__TYPE_BLOCK);
        served[n_served++] = r->block;
        r->block = NULL;
        r->type_case = ORDERER__DELIVER_RESPONSE__TYPE__NOT_SET;
        orderer__deliver_response__free_unpacked(r, NULL);
    }
    for (int i = 0; i < 60; i++) {
        Common__Envelope *e = ot_tx(o.user, "mychannel", 300);
        if (lc_rpc_stream_send(b.stream, &e->base, 30000) != 0) {
            common__envelope__free_unpacked(e, NULL);
            break;
        }
        common__envelope__free_unpacked(e, NULL);
        if (i == 30)
            kill(wh_pid(o.p), SIGKILL);
    }
    /* take every block the dying orderer still managed to serve */
    for (;;) {
        int code = 0;
        Orderer__DeliverResponse *r = ot_recv_deliver(&d, -1, &code);
        if (!r)
            break;
        if (r->type_case == ORDERER__DELIVER_RESPONSE__TYPE_BLOCK && n_served < 200) {
            served[n_served++] = r->block;
            r->block = NULL;
            r->type_case = ORDERER__DELIVER_RESPONSE__TYPE__NOT_SET;
        }
        orderer__deliver_response__free_unpacked(r, NULL);
    }
    ot_close(&b);
    ot_close(&d);
    wh_stop(o.p, SIGKILL, 10000);
    ck_assert_uint_ge(n_served, 11);

    /* restart: the chain is intact and holds every served block, byte for byte */
    od_restart(&o);
    Common__Block **blocks = NULL;
    size_t n = 0;
    ck_assert_int_eq(ot_deliver(o.target, seek(&o, OT_OLDEST, 0, OT_NEWEST, 0, false), &blocks, &n),
                     COMMON__STATUS__SUCCESS);
    ck_assert_uint_ge(n, n_served);
    for (size_t i = 1; i < n; i++)
        ot_check_block(blocks[i], blocks[i - 1], o.orderer);
    for (size_t i = 0; i < n_served; i++) {
        size_t l1 = 0, l2 = 0;
        uint8_t *a = block_bytes(served[i], &l1), *c = block_bytes(blocks[i], &l2);
        ck_assert_uint_eq(l1, l2);
        ck_assert_msg(memcmp(a, c, l1) == 0, "block %zu changed across the restart", i);
        free(a);
        free(c);
        common__block__free_unpacked(served[i], NULL);
    }
    /* numbering continues without a gap */
    broadcast_n(&o, "mychannel", 4, 300, NULL);
    wait_height(&o, n + 1);
    Common__Block **more = NULL;
    size_t m = 0;
    ck_assert_int_eq(
        ot_deliver(o.target, seek(&o, OT_SPECIFIED, n - 1, OT_SPECIFIED, n, false), &more, &m),
        COMMON__STATUS__SUCCESS);
    ck_assert_uint_eq(m, 2);
    ot_check_block(more[1], more[0], o.orderer);
    ck_assert_uint_eq(more[1]->header->number, n);
    ot_blocks_free(more, m);
    ot_blocks_free(blocks, n);
    od_stop(&o);
    od_done(&o);
}
END_TEST

START_TEST(several_channels_and_restart_from_data_dir)
{
    struct od o;
    od_net(&o, NULL);
    /* a second channel from the same profile */
    const char *gdir = wh_join(o.net.dir, "genesis");
    ck_assert_int_eq(mkdir(gdir, 0755), 0);
    const char *gen[] = {wh_bin("cli/weft"),
                         "genesis",
                         "--profile",
                         wh_join(o.net.dir, "profile.yaml"),
                         "--channel",
                         "second",
                         "--output",
                         wh_join(gdir, "second.block"),
                         NULL};
    ck_assert_int_eq(wh_run(gen, NULL, NULL), 0);
    const char *extra[] = {"--genesis", o.net.genesis, "--genesis-dir", gdir, NULL};
    od_start(&o, extra);
    broadcast_n(&o, "mychannel", 10, 100, NULL);
    broadcast_n(&o, "second", 20, 100, NULL);
    wait_height(&o, 2);
    struct ot_seek_spec sp = {.channel = "second",
                              .start = OT_SPECIFIED,
                              .start_n = 2,
                              .stop = OT_SPECIFIED,
                              .stop_n = 2,
                              .signer = o.user};
    expect_deliver(&o, ot_seek(&sp), 200, 2, 2);
    od_stop(&o);

    /* restart with no genesis flag at all: both channels come back from the data dir */
    const char *none[] = {"--genesis=", NULL};
    od_start(&o, none);
    ck_assert_int_ge(wh_log_count(o.p, "channels=mychannel,second"), 1);
    sp.fail_if_not_ready = true;
    sp.start_n = sp.stop_n = 3;
    expect_deliver(&o, ot_seek(&sp), 404, -1, -1);
    sp.start_n = sp.stop_n = 2;
    expect_deliver(&o, ot_seek(&sp), 200, 2, 2);
    od_stop(&o);
    od_done(&o);
}
END_TEST

START_TEST(refuses_to_start_on_damage_or_bad_flags)
{
    struct od o;
    od_net(&o, NULL);
    od_start(&o, NULL);
    broadcast_n(&o, "mychannel", 30, 100, NULL);
    wait_height(&o, 4);
    od_stop(&o);
    /* damage block 2's record (blocks after it are intact): a real corruption */
    const char *dir = wh_join(o.data, "mychannel");
    int ifd = open(wh_join(dir, "blocks.idx"), O_RDONLY);
    ck_assert_int_ge(ifd, 0);
    uint8_t le[8];
    ck_assert_int_eq(pread(ifd, le, 8, 16), 8);
    close(ifd);
    uint64_t off = 0;
    for (int i = 7; i >= 0; i--)
        off = off << 8 | le[i];
    int fd = open(wh_join(dir, "blocks.dat"), O_RDWR);
    ck_assert_int_ge(fd, 0);
    uint8_t byte;
    ck_assert_int_eq(pread(fd, &byte, 1, (off_t)off + 50), 1);
    byte ^= 0xff;
    ck_assert_int_eq(pwrite(fd, &byte, 1, (off_t)off + 50), 1);
    close(fd);
    ck_assert_int_eq(wh_restart(o.p), 0);
    ck_assert_int_eq(wh_wait_log(o.p, "refusing to start", 30000), 0);
    /* SIGTERM is blocked from the start, so this only collects the exit status */
    int st = wh_stop(o.p, SIGTERM, 30000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);

    /* a missing flag names itself */
    const char *argv[] = {wh_bin("services/orderer/orderer"), "--data-dir", o.data, NULL};
    char *out = NULL, *err = NULL;
    ck_assert_int_eq(wh_run(argv, &out, &err), 2);
    ck_assert_msg(strstr(err, "msp-dir") != NULL, "%s", err);
    free(out);
    free(err);
    od_done(&o);
}
END_TEST

int main(void)
{
    lc_crypto_init();
    Suite *s = suite_create("orderer-daemon");
    /* One case per test, so that CK_RUN_CASE=<name> runs one alone. */
    const struct {
        const char *name;
        const TTest *test;
    } tests[] = {
        {"broadcast_then_deliver", broadcast_then_deliver_signed_blocks},
        {"broadcast_rejections", broadcast_rejections},
        {"bad_message", bad_message_closes_only_its_own_stream},
        {"deliver_seek_modes", deliver_seek_modes},
        {"deliver_readers", deliver_readers_check},
        {"slow_reader", slow_reader_never_blocks_ordering},
        {"restart_after_sigkill", restart_after_sigkill_keeps_every_served_block},
        {"several_channels", several_channels_and_restart_from_data_dir},
        {"refuses_to_start", refuses_to_start_on_damage_or_bad_flags},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        TCase *tc = tcase_create(tests[i].name);
        tcase_set_timeout(tc, 240);
        tcase_add_test(tc, tests[i].test);
        suite_add_tcase(s, tc);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* eventd with a real orderer, endorser and committer: after `weft invoke` the transaction shows
 * in filtered and whole blocks with its validation code; history replays from block 0; an
 * identity outside the application orgs is refused; FAIL_IF_NOT_READY past the tip is 404. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "harness.h"
#include "libcommon/crypto.h"
#include "libcommon/msp.h"
#include "libcommon/rpc.h"
#include "peer/events.pb-c.h"

#define WAIT_MS 30000

static struct wh_net net;
static const char *logs;

static struct wh_proc *spawn(const char *name, const char *const *argv, const char *ready)
{
    struct wh_proc *p = wh_spawn(name, logs, argv, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(wh_wait_log(p, ready, WAIT_MS) == 0, "%s did not start", name);
    return p;
}

/* `weft invoke` of a kv put (waiting for the commit on eventd when evp > 0); returns its
 * stdout (caller frees). */
static char *invoke_out(int end_port, int ord_port, int evp, const char *args, int want_rc)
{
    const char *argv[] = {wh_bin("cli/weft"),
                          "invoke",
                          "--targets",
                          wh_fmt("127.0.0.1:%d", end_port),
                          "--genesis",
                          net.genesis,
                          "--mspid",
                          "Org1MSP",
                          "--channel",
                          net.channel,
                          "--msp-dir",
                          wh_user_msp(&net, 1, "User1"),
                          "--chaincode",
                          "kv",
                          "--args",
                          args,
                          "--orderers",
                          wh_fmt("127.0.0.1:%d", ord_port),
                          evp > 0 ? "--eventd" : NULL,
                          wh_fmt("127.0.0.1:%d", evp),
                          NULL};
    char *out = NULL, *err = NULL;
    int r = wh_run(argv, &out, &err);
    ck_assert_msg(r == want_rc, "invoke: %d\n%s\n%s", r, out, err);
    free(err);
    return out;
}

/* The TxID line of invoke's output; caller frees. */
static char *txid_of(const char *out)
{
    const char *t = strstr(out, "txid ");
    ck_assert_ptr_nonnull(t);
    return strndup(t + 5, strcspn(t + 5, "\n"));
}

static char *invoke(int end_port, int ord_port, const char *key, const char *value)
{
    char *out = invoke_out(end_port, ord_port, 0, wh_fmt("[\"put\",\"%s\",\"%s\"]", key, value), 0);
    char *txid = txid_of(out);
    free(out);
    return txid;
}

static struct lc_signer *signer_of(const char *dir, const char *mspid)
{
    struct lc_signer *s = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_msg(lc_signer_load(dir, mspid, &err, &s) == 0, "signer: %s", err.msg);
    return s;
}

static struct wc_events *open_events(struct wc_node *node, const struct lc_signer *s,
                                     const struct wc_seek *seek, bool filtered)
{
    struct wc_events *e = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_msg(wc_events_open(node, net.channel, s, seek, filtered, &err, &e) == 0, "open: %s",
                  err.msg);
    return e;
}

/* DeliverFiltered of block `number` read with the raw RPC client: the chaincode event keeps its
 * chaincode, TxID and name, and loses its payload. */
static void check_filtered_event(int evp, const struct lc_signer *user, uint64_t number,
                                 const char *txid, const char *name)
{
    struct lc_errbuf err = {{0}};
    struct wc_seek seek = {.start = WC_SEEK_NUMBER,
                           .start_number = number,
                           .stop = WC_SEEK_NUMBER,
                           .stop_number = number};
    uint8_t *env_bytes = NULL;
    size_t env_len = 0;
    ck_assert_int_eq(wc_seek_envelope(net.channel, user, &seek, &err, &env_bytes, &env_len), 0);
    Common__Envelope *env = common__envelope__unpack(NULL, env_len, env_bytes);
    ck_assert_ptr_nonnull(env);
    struct lc_rpc_client *cl = NULL;
    ck_assert_int_eq(lc_rpc_client_new(wh_fmt("127.0.0.1:%d", evp), NULL, &err, &cl), 0);
    struct lc_rpc_stream *st = NULL;
    ck_assert_int_eq(lc_rpc_stream_open(cl, "/protos.Deliver/DeliverFiltered", -1, &st), 0);
    ck_assert_int_eq(lc_rpc_stream_send(st, &env->base, WAIT_MS), 0);
    ProtobufCMessage *m = NULL;
    ck_assert_int_eq(lc_rpc_stream_recv(st, &protos__deliver_response__descriptor, WAIT_MS, &m), 0);
    Protos__DeliverResponse *resp = (Protos__DeliverResponse *)m;
    ck_assert_int_eq(resp->type_case, PROTOS__DELIVER_RESPONSE__TYPE_FILTERED_BLOCK);
    const Protos__FilteredBlock *fb = resp->filtered_block;
    ck_assert_str_eq(fb->channel_id, net.channel);
    ck_assert_uint_eq(fb->number, number);
    ck_assert_uint_eq(fb->n_filtered_transactions, 1);
    const Protos__FilteredTransaction *ft = fb->filtered_transactions[0];
    ck_assert_str_eq(ft->txid, txid);
    ck_assert_int_eq(ft->data_case, PROTOS__FILTERED_TRANSACTION__DATA_TRANSACTION_ACTIONS);
    ck_assert_uint_eq(ft->transaction_actions->n_chaincode_actions, 1);
    const Protos__ChaincodeEvent *ev =
        ft->transaction_actions->chaincode_actions[0]->chaincode_event;
    ck_assert_ptr_nonnull(ev);
    ck_assert_str_eq(ev->chaincode_id, "kv");
    ck_assert_str_eq(ev->tx_id, txid);
    ck_assert_str_eq(ev->event_name, name);
    ck_assert_uint_eq(ev->payload.len, 0);
    protobuf_c_message_free_unpacked(m, NULL);
    m = NULL;
    ck_assert_int_eq(lc_rpc_stream_recv(st, &protos__deliver_response__descriptor, WAIT_MS, &m), 0);
    resp = (Protos__DeliverResponse *)m;
    ck_assert_int_eq(resp->type_case, PROTOS__DELIVER_RESPONSE__TYPE_STATUS);
    ck_assert_int_eq(resp->status, COMMON__STATUS__SUCCESS);
    protobuf_c_message_free_unpacked(m, NULL);
    lc_rpc_stream_free(st);
    lc_rpc_client_free(cl);
    common__envelope__free_unpacked(env, NULL);
    free(env_bytes);
}

START_TEST(events_after_invoke)
{
    ck_assert_int_eq(lc_crypto_init(), 0);
    struct wh_net_opts o = {.orgs = 2, .peers_per_org = 1};
    ck_assert_int_eq(wh_net_make(&net, &o), 0);
    logs = wh_tmpdir();
    int ord = wh_free_port(), end = wh_free_port(), com = wh_free_port(), evp = wh_free_port();
    const char *oargv[] = {wh_bin("services/orderer/orderer"),
                           "--listen",
                           wh_fmt("127.0.0.1:%d", ord),
                           "--msp-dir",
                           wh_orderer_msp(&net, 0),
                           "--mspid",
                           "OrdererMSP",
                           "--genesis",
                           net.genesis,
                           "--data-dir",
                           wh_join(net.dir, "orderer-data"),
                           "--fsync",
                           "none",
                           NULL};
    spawn("orderer", oargv, "orderer listening");
    const char *eargv[] = {wh_bin("services/endorser/endorser"),
                           "--listen",
                           wh_fmt("127.0.0.1:%d", end),
                           "--msp-dir",
                           wh_peer_msp(&net, 1, 0),
                           "--mspid",
                           "Org1MSP",
                           "--genesis",
                           net.genesis,
                           "--state-dir",
                           wh_join(net.dir, "endorser-state"),
                           "--state-sync=false",
                           NULL};
    spawn("endorser", eargv, "endorser listening");
    const char *cargv[] = {wh_bin("services/committer/committer"),
                           "--listen",
                           wh_fmt("127.0.0.1:%d", com),
                           "--msp-dir",
                           wh_peer_msp(&net, 1, 0),
                           "--mspid",
                           "Org1MSP",
                           "--genesis",
                           net.genesis,
                           "--data-dir",
                           wh_join(net.dir, "committer-data"),
                           "--orderer",
                           wh_fmt("127.0.0.1:%d", ord),
                           "--sync=false",
                           NULL};
    struct wh_proc *c = spawn("committer", cargv, "committer listening");
    const char *vargv[] = {wh_bin("services/eventd/eventd"), "--listen",
                           wh_fmt("127.0.0.1:%d", evp), "--committer", wh_fmt("127.0.0.1:%d", com),
                           "--genesis", net.genesis,
                           /* one block: older ones take the per-subscriber stream */
                           "--cache-blocks", "1", NULL};
    struct wh_proc *ev = spawn("eventd", vargv, "eventd listening");

    struct lc_errbuf err = {{0}};
    struct wc_node *node = NULL;
    struct wc_endpoint ep = {.name = "eventd", .address = wh_fmt("127.0.0.1:%d", evp)};
    ck_assert_int_eq(wc_node_new(&ep, 0, &err, &node), 0);
    struct lc_signer *user = signer_of(wh_user_msp(&net, 1, "User1"), "Org1MSP");

    /* registered before the transaction exists: a live filtered stream from block 1 */
    struct wc_seek live = {.start = WC_SEEK_NUMBER, .start_number = 1, .stop = WC_SEEK_FOREVER};
    struct wc_events *lev = open_events(node, user, &live, true);

    char *txid = invoke(end, ord, "x", "y");
    ck_assert_msg(wh_wait_log(c, "block committed number=1 txs=1 valid=1", WAIT_MS) == 0,
                  "block 1 not committed");
    uint64_t num = 0;
    int32_t code = -1;
    ck_assert_msg(wc_events_wait_tx(lev, txid, WAIT_MS, &err, &num, &code) == 0, "wait: %s",
                  err.msg);
    ck_assert_uint_eq(num, 1);
    ck_assert_int_eq(code, 0);
    wc_events_free(lev);

    /* history from oldest, filtered: block 0 (the config), then block 1 with the tx VALID */
    struct wc_seek hist = {.start = WC_SEEK_OLDEST, .stop = WC_SEEK_NEWEST};
    struct wc_events *e = open_events(node, user, &hist, true);
    struct wc_event_block *b = NULL;
    ck_assert_msg(wc_events_next(e, WAIT_MS, &err, &b) == 0, "block 0: %s", err.msg);
    ck_assert_uint_eq(b->number, 0);
    ck_assert_uint_eq(b->n_txs, 1);
    ck_assert_int_eq(b->txs[0].type, 1); /* CONFIG */
    ck_assert_ptr_null(b->block);
    wc_event_block_free(b);
    ck_assert_msg(wc_events_next(e, WAIT_MS, &err, &b) == 0, "block 1: %s", err.msg);
    ck_assert_uint_eq(b->number, 1);
    ck_assert_uint_eq(b->n_txs, 1);
    ck_assert_str_eq(b->txs[0].txid, txid);
    ck_assert_int_eq(b->txs[0].code, 0);
    ck_assert_int_eq(b->txs[0].type, 3); /* ENDORSER_TRANSACTION */
    wc_event_block_free(b);
    b = NULL;
    ck_assert_int_eq(wc_events_next(e, WAIT_MS, &err, &b), 1); /* SUCCESS after the stop */
    wc_events_free(e);

    /* whole block 1: the committed block with metadata[2] */
    struct wc_seek one = {
        .start = WC_SEEK_NUMBER, .start_number = 1, .stop = WC_SEEK_NUMBER, .stop_number = 1};
    e = open_events(node, user, &one, false);
    ck_assert_msg(wc_events_next(e, WAIT_MS, &err, &b) == 0, "full block 1: %s", err.msg);
    ck_assert_ptr_nonnull(b->block);
    ck_assert_uint_eq(b->number, 1);
    ck_assert_str_eq(b->txs[0].txid, txid);
    ck_assert_int_eq(b->txs[0].code, 0);
    wc_event_block_free(b);
    b = NULL;
    ck_assert_int_eq(wc_events_next(e, WAIT_MS, &err, &b), 1);
    wc_events_free(e);

    /* FAIL_IF_NOT_READY past the tip: NOT_FOUND */
    struct wc_seek far = {.start = WC_SEEK_NUMBER,
                          .start_number = 2,
                          .stop = WC_SEEK_FOREVER,
                          .fail_if_not_ready = true};
    e = open_events(node, user, &far, true);
    ck_assert_int_eq(wc_events_next(e, WAIT_MS, &err, &b), LC_ENOTFOUND);
    wc_events_free(e);

    /* the orderer org is not an application org: /Channel/Application/Readers refuses it */
    struct lc_signer *ord_id = signer_of(wh_orderer_msp(&net, 0), "OrdererMSP");
    e = open_events(node, ord_id, &hist, true);
    ck_assert_int_eq(wc_events_next(e, WAIT_MS, &err, &b), -EACCES);
    wc_events_free(e);
    ck_assert_int_eq(wh_log_count(ev, "deliver rejected"), 1);
    lc_signer_free(ord_id);

    /* weft invoke --eventd registers first, then reports the commit */
    char *out = invoke_out(end, ord, evp, "[\"put\",\"x2\",\"y2\"]", 0);
    char *txid2 = txid_of(out);
    ck_assert_msg(strstr(out, "committed in block 2: VALID (0)") != NULL, "%s", out);
    free(out);

    /* weft events: a line per block with the TxIDs and codes */
    const char *wargv[] = {wh_bin("cli/weft"),
                           "events",
                           "--eventd",
                           wh_fmt("127.0.0.1:%d", evp),
                           "--channel",
                           net.channel,
                           "--msp-dir",
                           wh_user_msp(&net, 1, "User1"),
                           "--mspid",
                           "Org1MSP",
                           "--from",
                           "1",
                           "--to",
                           "2",
                           NULL};
    char *eout = NULL, *eerr = NULL;
    ck_assert_msg(wh_run(wargv, &eout, &eerr) == 0, "events: %s", eerr);
    ck_assert_str_eq(eout, wh_fmt("block 1 %s VALID\nblock 2 %s VALID\n", txid, txid2));
    free(eout);
    free(eerr);
    free(txid2);

    /* the endorser's state does not follow commits, so reading x there sees no version while
     * the committed x has one: MVCC_READ_CONFLICT, and invoke exits 1 */
    out = invoke_out(end, ord, evp, "[\"get\",\"x\"]", 1);
    ck_assert_msg(strstr(out, "committed in block 3: MVCC_READ_CONFLICT (11)") != NULL, "%s", out);
    free(out);

    /* a chaincode event: in the filtered block without its payload */
    out = invoke_out(end, ord, evp, "[\"event\",\"ev1\",\"secret\"]", 0);
    char *txid4 = txid_of(out);
    ck_assert_msg(strstr(out, "committed in block 4: VALID (0)") != NULL, "%s", out);
    free(out);
    check_filtered_event(evp, user, 4, txid4, "ev1");
    free(txid4);

    ck_assert_int_eq(wh_stop(ev, SIGTERM, WAIT_MS), 0);
    free(txid);
    lc_signer_free(user);
    wc_node_free(node);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("eventd-it");
    TCase *tc = tcase_create("flow");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, events_after_invoke);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    wh_cleanup();
    return failed ? 1 : 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The SDK's network side against in-process fake endorsers and orderers (libcommon/rpc servers):
 * parallel endorsement, reselection after a failed endorser, broadcast failover, Deliver. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "libcommon/proposal.h"
#include "libcommon/rpc.h"
#include "libcommon/wire.h"
#include "orderer/ab.pb-c.h"
#include "tc.h"

struct fake {
    struct lc_rpc_server *srv;
    char target[64];
    atomic_uint calls;
    /* endorser */
    struct lc_signer *signer;
    struct tc_resp resp;
    /* orderer */
    int32_t bc_status;
    const Common__Block *const *blocks;
    size_t n_blocks;
    int32_t deliver_status;
};

static void endorse_on_request(struct lc_rpc_call *call, const ProtobufCMessage *req)
{
    struct fake *f = lc_rpc_call_ctx(call);
    atomic_fetch_add(&f->calls, 1);
    struct lc_proposal *lp = NULL;
    struct lc_errbuf err;
    if (lc_proposal_from_signed((const Protos__SignedProposal *)req, &err, &lp) < 0) {
        lc_rpc_finish(call, LC_RPC_INVALID_ARGUMENT, "%s", err.msg);
        return;
    }
    ProtobufCBinaryData b =
        tc_response_for(lc_proposal_hash(lp), lc_proposal_chaincode(lp), f->signer, &f->resp);
    Protos__ProposalResponse *pr = protos__proposal_response__unpack(NULL, b.len, b.data);
    lc_rpc_reply(call, &pr->base);
    protos__proposal_response__free_unpacked(pr, NULL);
    free(b.data);
    lc_proposal_free(lp);
}

static void noop_open(struct lc_rpc_call *call)
{
    (void)call;
}

static void finish_ok(struct lc_rpc_call *call)
{
    lc_rpc_finish(call, LC_RPC_OK, NULL);
}

static void broadcast_on_message(struct lc_rpc_call *call, const ProtobufCMessage *msg)
{
    (void)msg;
    struct fake *f = lc_rpc_call_ctx(call);
    atomic_fetch_add(&f->calls, 1);
    Orderer__BroadcastResponse br = ORDERER__BROADCAST_RESPONSE__INIT;
    br.status = f->bc_status;
    br.info = "fake orderer";
    lc_rpc_send(call, &br.base);
    if (f->bc_status != COMMON__STATUS__SUCCESS)
        lc_rpc_finish(call, LC_RPC_OK, NULL);
}

static void deliver_on_message(struct lc_rpc_call *call, const ProtobufCMessage *msg)
{
    (void)msg;
    struct fake *f = lc_rpc_call_ctx(call);
    atomic_fetch_add(&f->calls, 1);
    for (size_t i = 0; i < f->n_blocks; i++) {
        Orderer__DeliverResponse dr = ORDERER__DELIVER_RESPONSE__INIT;
        dr.type_case = ORDERER__DELIVER_RESPONSE__TYPE_BLOCK;
        dr.block = (Common__Block *)f->blocks[i];
        lc_rpc_send(call, &dr.base);
    }
    Orderer__DeliverResponse st = ORDERER__DELIVER_RESPONSE__INIT;
    st.type_case = ORDERER__DELIVER_RESPONSE__TYPE_STATUS;
    st.status = f->deliver_status;
    lc_rpc_send(call, &st.base);
    lc_rpc_finish(call, LC_RPC_OK, NULL);
}

static const struct lc_rpc_method endorser_methods[] = {
    {.path = "/protos.Endorser/ProcessProposal",
     .kind = LC_RPC_UNARY,
     .request = &protos__signed_proposal__descriptor,
     .on_request = endorse_on_request},
};

static const struct lc_rpc_method orderer_methods[] = {
    {.path = "/orderer.AtomicBroadcast/Broadcast",
     .kind = LC_RPC_BIDI_STREAM,
     .request = &common__envelope__descriptor,
     .on_open = noop_open,
     .on_message = broadcast_on_message,
     .on_half_close = finish_ok},
    {.path = "/orderer.AtomicBroadcast/Deliver",
     .kind = LC_RPC_BIDI_STREAM,
     .request = &common__envelope__descriptor,
     .on_open = noop_open,
     .on_message = deliver_on_message},
};

static void fake_start(struct fake *f, bool orderer)
{
    struct lc_rpc_server_opts o = {.listen = "127.0.0.1:0"};
    struct lc_errbuf err;
    ck_assert_int_eq(lc_rpc_server_new(&o, &err, &f->srv), 0);
    if (orderer)
        ck_assert_int_eq(lc_rpc_server_add(f->srv, orderer_methods, 2, f, &err), 0);
    else
        ck_assert_int_eq(lc_rpc_server_add(f->srv, endorser_methods, 1, f, &err), 0);
    ck_assert_msg(lc_rpc_server_start(f->srv, &err) == 0, "%s", err.msg);
    snprintf(f->target, sizeof f->target, "127.0.0.1:%d", lc_rpc_server_port(f->srv));
}

static void fake_stop(struct fake *f)
{
    lc_rpc_server_shutdown(f->srv, 1000);
    lc_rpc_server_free(f->srv);
    lc_signer_free(f->signer);
}

/* A bound socket that does not listen: connections are refused at once. */
struct dead {
    int fd;
    char target[64];
};

static void dead_open(struct dead *d)
{
    d->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(d->fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(d->fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    ck_assert_int_eq(getsockname(d->fd, (struct sockaddr *)&a, &alen), 0);
    snprintf(d->target, sizeof d->target, "127.0.0.1:%d", ntohs(a.sin_port));
}

static struct wc_node *node(const char *name, const char *addr, const char *mspid)
{
    struct wc_endpoint ep = {name, addr, mspid};
    struct wc_node *n = NULL;
    struct lc_errbuf err;
    ck_assert_msg(wc_node_new(&ep, 0, &err, &n) == 0, "%s", err.msg);
    return n;
}

START_TEST(endorse_parallel_with_a_dead_endorser)
{
    struct fake e1 = {.signer = tc_peer(1, 0), .resp = {.status = 200, .payload = "v"}};
    struct fake e2 = {.signer = tc_peer(2, 0), .resp = {.status = 200, .payload = "v"}};
    fake_start(&e1, false);
    fake_start(&e2, false);
    struct dead d;
    dead_open(&d);
    struct wc_node *nodes[] = {node("e1", e1.target, "Org1MSP"), node("dead", d.target, NULL),
                               node("e2", e2.target, "Org2MSP")};
    ck_assert_str_eq(wc_node_name(nodes[0]), "e1");
    ck_assert_str_eq(wc_node_address(nodes[1]), d.target);
    ck_assert_ptr_null(wc_node_mspid(nodes[1]));
    struct lc_signer *user = tc_user(1, "User1");
    struct wc_proposal *prop = tc_proposal(user, "basic");
    struct wc_responses *rs = NULL;
    ck_assert_int_eq(wc_endorse(prop, nodes, 3, 10000, &rs), 0);
    ck_assert_uint_eq(wc_responses_count(rs), 3);
    ck_assert_int_eq(wc_responses_error(rs, 0, NULL), 0);
    ck_assert_int_eq(wc_responses_status(rs, 0), 200);
    const char *msg = NULL;
    ck_assert_int_eq(wc_responses_error(rs, 1, &msg), LC_EUNAVAIL);
    ck_assert_ptr_nonnull(strstr(msg, "UNAVAILABLE"));
    ck_assert_int_eq(wc_responses_status(rs, 2), 200);
    struct lc_chconf *cc = tc_chconf();
    struct lc_errbuf err;
    ck_assert_int_eq(wc_responses_validate(rs, prop, cc, time(NULL), &err), LC_EUNAVAIL);
    ck_assert_ptr_nonnull(strstr(err.msg, "endorser dead: UNAVAILABLE"));
    wc_responses_free(rs);

    /* the two live ones agree and validate */
    struct wc_node *live[] = {nodes[0], nodes[2]};
    ck_assert_int_eq(wc_endorse(prop, live, 2, 10000, &rs), 0);
    ck_assert_msg(wc_responses_validate(rs, prop, cc, time(NULL), &err) == 0, "%s", err.msg);
    size_t len;
    ck_assert_mem_eq(wc_responses_result(rs, &len), "v", 1);
    wc_responses_free(rs);

    lc_chconf_free(cc);
    wc_proposal_free(prop);
    lc_signer_free(user);
    for (size_t i = 0; i < 3; i++)
        wc_node_free(nodes[i]);
    wc_node_free(NULL);
    close(d.fd);
    fake_stop(&e1);
    fake_stop(&e2);
}
END_TEST

START_TEST(endorse_select_policy_skips_failed)
{
    struct fake o1 = {.signer = tc_peer(1, 1), .resp = {.status = 200, .payload = "v"}};
    struct fake o2 = {.signer = tc_peer(2, 0), .resp = {.status = 200, .payload = "v"}};
    fake_start(&o1, false);
    fake_start(&o2, false);
    struct dead d;
    dead_open(&d);
    /* policy AND(Org1, Org2): the first pick is {dead Org1 peer, Org2}; then {Org1 peer 1, Org2} */
    struct wc_node *nodes[] = {node("dead.org1", d.target, "Org1MSP"),
                               node("p1.org1", o1.target, "Org1MSP"),
                               node("p0.org2", o2.target, "Org2MSP")};
    struct lc_signer *user = tc_user(1, "User1");
    struct wc_proposal *prop = tc_proposal(user, "basic");
    struct lc_chconf *cc = tc_chconf();
    struct wc_responses *rs = NULL;
    struct lc_errbuf err;
    ck_assert_msg(wc_endorse_select(prop, WC_SELECT_POLICY, nodes, 3, cc, 10000, &err, &rs) == 0,
                  "%s", err.msg);
    ck_assert_uint_eq(wc_responses_count(rs), 2);
    ck_assert_str_eq(wc_responses_endorser(rs, 0), "p1.org1");
    ck_assert_str_eq(wc_responses_endorser(rs, 1), "p0.org2");
    ck_assert_msg(wc_responses_validate(rs, prop, cc, time(NULL), &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(atomic_load(&o2.calls), 2); /* asked in both rounds */
    wc_responses_free(rs);

    /* static asks everyone, once */
    ck_assert_int_eq(wc_endorse_select(prop, WC_SELECT_STATIC, nodes, 3, cc, 10000, &err, &rs), 0);
    ck_assert_uint_eq(wc_responses_count(rs), 3);
    wc_responses_free(rs);

    /* with no Org1 peer left the last answers come back for validation to report */
    struct wc_node *only_dead[] = {nodes[0], nodes[2]};
    ck_assert_int_eq(wc_endorse_select(prop, WC_SELECT_POLICY, only_dead, 2, cc, 10000, &err, &rs),
                     0);
    ck_assert_int_eq(wc_responses_validate(rs, prop, cc, time(NULL), &err), LC_EUNAVAIL);
    ck_assert_ptr_nonnull(strstr(err.msg, "endorser dead.org1"));
    wc_responses_free(rs);
    /* a chaincode the channel does not have: the selection's error */
    struct wc_proposal *other = tc_proposal(user, "nope");
    ck_assert_int_eq(wc_endorse_select(other, WC_SELECT_POLICY, nodes, 3, cc, 10000, &err, &rs),
                     LC_ENOTFOUND);
    ck_assert_int_eq(wc_endorse_select(other, WC_SELECT_POLICY, nodes, 0, cc, 10000, &err, &rs),
                     LC_EINVALID);
    wc_proposal_free(other);

    lc_chconf_free(cc);
    wc_proposal_free(prop);
    lc_signer_free(user);
    for (size_t i = 0; i < 3; i++)
        wc_node_free(nodes[i]);
    close(d.fd);
    fake_stop(&o1);
    fake_stop(&o2);
}
END_TEST

/* A signed envelope to broadcast (its content does not matter to the fakes). */
static void some_envelope(uint8_t **ret, size_t *ret_len)
{
    struct lc_signer *user = tc_user(1, "User1");
    struct wc_seek seek = {.start = WC_SEEK_OLDEST, .stop = WC_SEEK_NEWEST};
    struct lc_errbuf err;
    ck_assert_int_eq(wc_seek_envelope("mychannel", user, &seek, &err, ret, ret_len), 0);
    lc_signer_free(user);
}

START_TEST(broadcast_fails_over)
{
    struct fake busy = {.bc_status = COMMON__STATUS__SERVICE_UNAVAILABLE};
    struct fake good = {.bc_status = COMMON__STATUS__SUCCESS};
    struct fake refuse = {.bc_status = COMMON__STATUS__FORBIDDEN};
    fake_start(&busy, true);
    fake_start(&good, true);
    fake_start(&refuse, true);
    struct dead d;
    dead_open(&d);
    struct wc_node *dead = node("dead", d.target, NULL), *b = node("busy", busy.target, NULL),
                   *g = node("good", good.target, NULL), *rf = node("refuse", refuse.target, NULL);
    uint8_t *env;
    size_t len;
    some_envelope(&env, &len);
    struct wc_broadcast_result res;
    struct lc_errbuf err;

    /* dead, then 503, then success */
    struct wc_node *list[] = {dead, b, g};
    ck_assert_msg(wc_broadcast(list, 3, env, len, WC_ORDER_LISTED, 10000, &err, &res) == 0, "%s",
                  err.msg);
    ck_assert_int_eq(res.status, 200);
    ck_assert_str_eq(res.info, "fake orderer");
    ck_assert_uint_eq(res.orderer, 2);
    ck_assert_uint_eq(res.failed_over, 2);
    ck_assert_uint_eq(atomic_load(&busy.calls), 1);
    ck_assert_uint_eq(atomic_load(&good.calls), 1);

    /* a refusal other than 503 is the answer: no failover */
    struct wc_node *list2[] = {rf, g};
    ck_assert_int_eq(wc_broadcast(list2, 2, env, len, WC_ORDER_LISTED, 10000, &err, &res), 0);
    ck_assert_int_eq(res.status, 403);
    ck_assert_uint_eq(res.orderer, 0);
    ck_assert_uint_eq(atomic_load(&good.calls), 1);
    ck_assert_str_eq(wc_status_name(res.status), "FORBIDDEN");

    /* only busy ones: their 503 comes back */
    struct wc_node *list3[] = {dead, b};
    ck_assert_int_eq(wc_broadcast(list3, 2, env, len, WC_ORDER_LISTED, 10000, &err, &res), 0);
    ck_assert_int_eq(res.status, 503);
    ck_assert_uint_eq(res.orderer, 1);

    /* nobody reachable */
    struct wc_node *list4[] = {dead, dead};
    ck_assert_int_eq(wc_broadcast(list4, 2, env, len, WC_ORDER_RANDOM, 10000, &err, &res),
                     LC_EUNAVAIL);
    ck_assert_msg(strstr(err.msg, "no orderer took the transaction: dead: UNAVAILABLE") != NULL,
                  "%s", err.msg);

    /* random order still reaches the good one */
    struct wc_node *list5[] = {dead, g, b};
    ck_assert_int_eq(wc_broadcast(list5, 3, env, len, WC_ORDER_RANDOM, 10000, &err, &res), 0);
    ck_assert_int_eq(res.status, 200);
    ck_assert_uint_eq(res.orderer, 1);

    ck_assert_int_eq(wc_broadcast(list5, 0, env, len, WC_ORDER_RANDOM, 10000, &err, &res),
                     LC_EINVALID);
    ck_assert_int_eq(
        wc_broadcast(list5, 3, (const uint8_t *)"\xff", 1, WC_ORDER_RANDOM, 10000, &err, &res),
        LC_EDECODE);
    free(env);
    wc_node_free(dead);
    wc_node_free(b);
    wc_node_free(g);
    wc_node_free(rf);
    close(d.fd);
    fake_stop(&busy);
    fake_stop(&good);
    fake_stop(&refuse);
}
END_TEST

/* A genesis block from a file. */
static Common__Block *read_block(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    Common__Block *b = common__block__unpack(NULL, n, buf);
    ck_assert_ptr_nonnull(b);
    return b;
}

START_TEST(deliver_blocks_and_config)
{
    Common__Block *g = read_block(tc.genesis);
    uint8_t prev[32];
    ck_assert_int_eq(lc_wire_header_hash(g->header, prev), 0);
    ProtobufCBinaryData tx = {3, (uint8_t *)"abc"};
    Common__Block *b1 = NULL;
    ck_assert_int_eq(lc_wire_block_new(1, prev, 32, &tx, 1, &b1), 0);
    const Common__Block *blocks[] = {g, b1};
    struct fake ord = {.blocks = blocks, .n_blocks = 2, .deliver_status = 200};
    fake_start(&ord, true);
    struct wc_node *o = node("orderer0", ord.target, NULL);
    struct lc_signer *user = tc_user(1, "User1");
    struct lc_errbuf err;

    struct wc_seek seek = {.start = WC_SEEK_OLDEST, .stop = WC_SEEK_NUMBER, .stop_number = 1};
    struct wc_deliver *d = NULL;
    ck_assert_int_eq(wc_deliver_open(o, "mychannel", user, &seek, &err, &d), 0);
    Common__Block *got = NULL;
    ck_assert_int_eq(wc_deliver_next(d, 10000, &err, &got), 0);
    ck_assert_uint_eq(got->header->number, 0);
    lc_wire_block_free(got);
    ck_assert_int_eq(wc_deliver_next(d, 10000, &err, &got), 0);
    ck_assert_uint_eq(got->header->number, 1);
    ck_assert_int_eq(lc_wire_block_check_link(g, got, &err), 0);
    lc_wire_block_free(got);
    ck_assert_int_eq(wc_deliver_next(d, 10000, &err, &got), 1);
    ck_assert_int_eq(wc_deliver_next(d, 10000, &err, &got), 1);
    wc_deliver_free(d);

    /* the channel config from block 0 */
    struct lc_chconf *cc = NULL;
    ck_assert_msg(wc_chconf_fetch(&o, 1, "mychannel", user, 10000, &err, &cc) == 0, "%s", err.msg);
    ck_assert_str_eq(lc_chconf_channel_id(cc), "mychannel");
    ck_assert_ptr_nonnull(lc_chconf_chaincode(cc, "basic"));
    lc_chconf_free(cc);
    ck_assert_int_eq(wc_chconf_fetch(&o, 0, "mychannel", user, 10000, &err, &cc), LC_EINVALID);
    wc_deliver_free(NULL);

    lc_signer_free(user);
    wc_node_free(o);
    fake_stop(&ord);
    lc_wire_block_free(b1);
    common__block__free_unpacked(g, NULL);
}
END_TEST

/* Block 0 served by one fake orderer; fetching the config for mychannel must fail with cause. */
static void fetch_rejects(const Common__Block *served, int code, const char *want)
{
    const Common__Block *blocks[] = {served};
    struct fake ord = {.blocks = blocks, .n_blocks = 1, .deliver_status = 200};
    fake_start(&ord, true);
    struct wc_node *o = node("orderer0", ord.target, NULL);
    struct lc_signer *user = tc_user(1, "User1");
    struct lc_chconf *cc = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(wc_chconf_fetch(&o, 1, "mychannel", user, 10000, &err, &cc), code);
    ck_assert_msg(strstr(err.msg, want) != NULL, "'%s' lacks '%s'", err.msg, want);
    ck_assert_ptr_null(cc);
    lc_signer_free(user);
    wc_node_free(o);
    fake_stop(&ord);
}

START_TEST(config_fetch_rejects)
{
    /* block 0 of another channel */
    Common__Block *other = read_block(tc.other);
    fetch_rejects(other, LC_EMISMATCH, "orderer0: block 0 is for channel other");
    /* another block than 0 */
    other->header->number = 3;
    fetch_rejects(other, LC_EINVALID, "asked for block 0, got another");
    /* a data hash that is not the data's */
    Common__Block *g = read_block(tc.genesis);
    g->header->data_hash.data[0] ^= 1;
    fetch_rejects(g, LC_EMISMATCH, "orderer0: ");
    common__block__free_unpacked(g, NULL);
    common__block__free_unpacked(other, NULL);
}
END_TEST

START_TEST(deliver_refused)
{
    struct fake ord = {.deliver_status = COMMON__STATUS__NOT_FOUND};
    fake_start(&ord, true);
    struct dead dd;
    dead_open(&dd);
    struct wc_node *o = node("orderer0", ord.target, NULL), *dead = node("dead", dd.target, NULL);
    struct lc_signer *user = tc_user(1, "User1");
    struct lc_errbuf err;
    struct wc_seek seek = {.start = WC_SEEK_NUMBER, .start_number = 7, .stop = WC_SEEK_NEWEST};
    struct wc_deliver *d = NULL;
    ck_assert_int_eq(wc_deliver_open(o, "mychannel", user, &seek, &err, &d), 0);
    Common__Block *got = NULL;
    ck_assert_int_eq(wc_deliver_next(d, 10000, &err, &got), LC_ENOTFOUND);
    ck_assert_str_eq(err.msg, "deliver: status 404 NOT_FOUND");
    wc_deliver_free(d);
    ck_assert_int_eq(wc_deliver_open(dead, "mychannel", user, &seek, &err, &d), 0);
    ck_assert_int_eq(wc_deliver_next(d, 10000, &err, &got), LC_EUNAVAIL);
    wc_deliver_free(d);
    /* no orderer serves block 0: both causes are named */
    struct wc_node *both[] = {dead, o};
    struct lc_chconf *cc = NULL;
    ck_assert_int_ne(wc_chconf_fetch(both, 2, "mychannel", user, 10000, &err, &cc), 0);
    ck_assert_msg(strstr(err.msg, "dead: deliver: UNAVAILABLE") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "orderer0: deliver: status 404") != NULL, "%s", err.msg);
    lc_signer_free(user);
    wc_node_free(o);
    wc_node_free(dead);
    close(dd.fd);
    fake_stop(&ord);
}
END_TEST

START_TEST(node_rejects_bad_addresses)
{
    struct wc_node *n = NULL;
    struct lc_errbuf err;
    struct wc_endpoint ep = {"x", "nohost", NULL};
    ck_assert_int_eq(wc_node_new(&ep, 0, &err, &n), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "x: "));
    ep = (struct wc_endpoint){"", "h:1", NULL};
    ck_assert_int_eq(wc_node_new(&ep, 0, &err, &n), LC_EINVALID);
    ck_assert_ptr_null(n);
}
END_TEST

START_TEST(chconf_load_errors)
{
    struct lc_chconf *cc = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(wc_chconf_load(tc_path("none.block"), &err, &cc), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err.msg, "none.block"));
    const char *junk = tc_path("junk.block");
    FILE *f = fopen(junk, "wb");
    fputs("junk", f);
    fclose(f);
    ck_assert_int_eq(wc_chconf_load(junk, &err, &cc), LC_EDECODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "junk.block: "));
    remove(junk);
}
END_TEST

Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *t = tcase_create("net");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, endorse_parallel_with_a_dead_endorser);
    tcase_add_test(t, endorse_select_policy_skips_failed);
    tcase_add_test(t, broadcast_fails_over);
    tcase_add_test(t, deliver_blocks_and_config);
    tcase_add_test(t, deliver_refused);
    tcase_add_test(t, config_fetch_rejects);
    tcase_add_test(t, node_rejects_bad_addresses);
    tcase_add_test(t, chconf_load_errors);
    suite_add_tcase(s, t);
    return s;
}

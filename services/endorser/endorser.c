/* SPDX-License-Identifier: Apache-2.0 */
/* The endorser: its channels and state replicas, and the ProcessProposal pipeline. */
#include "services/endorser/endorser.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.pb-c.h"

#include "libcommon/chconf.h"
#include "libcommon/kv.h"
#include "libcommon/log.h"
#include "libcommon/msp.h"
#include "libcommon/proposal.h"
#include "libcommon/state.h"
#include "libcommon/wire.h"
#include "services/endorser/registry.h"
#include "services/endorser/simulate.h"

#define MOD "endorser"
#define MAX_BLOCK_FILE (256u << 20)
#define MAX_CHANNELS 256
#define DEFAULT_ARGS_BYTES (1u << 20)
#define DEFAULT_MAP_SIZE (1ull << 30)
#define MAX_MAP_SIZE (64ull << 30)
#define ACL_PROPOSE "peer/Propose"
#define DEFAULT_PROPOSE_POLICY "/Channel/Application/Writers"
#define LOCK_FILE "endorser.lock"

struct channel {
    char *id;
    struct lc_chconf *conf;
    char *genesis_txid;
    char *propose_policy; /* absolute path of the ACL peer/Propose policy */
    struct lc_kv_env *env;
    struct lc_state *state;
};

struct cc_alias {
    char *name;
    const struct cc_chaincode *module;
};

struct endorser {
    struct lc_signer *signer;
    struct channel *channels;
    size_t n_channels;
    struct cc_alias *aliases;
    size_t n_aliases;
    size_t max_args_bytes, max_msg_bytes, identity_cache, map_size;
    bool nosync;
    int lock_fd;
};

/* ---- setup -------------------------------------------------------------------------------- */

static int read_file(const char *path, size_t max, uint8_t **ret_buf, size_t *ret_len,
                     struct lc_errbuf *err)
{
    int r = 0;
    uint8_t *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lc_fail(err, -errno, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        r = lc_fail(err, -errno, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        r = lc_fail(err, LC_ETOOBIG, "%s: over %zu bytes", path, max);
        goto out;
    }
    size_t len = (size_t)st.st_size, got = 0;
    buf = malloc(len ? len : 1);
    if (!buf) {
        r = lc_fail(err, -ENOMEM, "%s: out of memory", path);
        goto out;
    }
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = lc_fail(err, n < 0 ? -errno : -EIO, "%s: short read", path);
            goto out;
        }
        got += (size_t)n;
    }
    *ret_buf = buf;
    *ret_len = len;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return r;
}

/* The config transaction's TxID (block.data[0] → Envelope → Payload → ChannelHeader). */
static int config_txid(const Common__Block *b, char **ret, struct lc_errbuf *err)
{
    Common__Envelope *env = NULL;
    Common__Payload *pl = NULL;
    Common__ChannelHeader *ch = NULL;
    int r = LC_WIRE_UNPACK(&common__envelope__descriptor, b->data->data[0], &env, err);
    if (r == 0)
        r = LC_WIRE_UNPACK(&common__payload__descriptor, env->payload, &pl, err);
    if (r == 0 && !pl->header)
        r = lc_fail(err, LC_EINVALID, "config envelope without a header");
    if (r == 0)
        r = LC_WIRE_UNPACK(&common__channel_header__descriptor, pl->header->channel_header, &ch,
                           err);
    if (r == 0) {
        *ret = strdup(ch->tx_id);
        if (!*ret)
            r = lc_fail(err, -ENOMEM, "out of memory");
    }
    if (ch)
        common__channel_header__free_unpacked(ch, NULL);
    if (pl)
        common__payload__free_unpacked(pl, NULL);
    if (env)
        common__envelope__free_unpacked(env, NULL);
    return r;
}

/* The ACL peer/Propose policy as an absolute path (a relative reference is relative to
 * /Channel/Application, as Fabric resolves ACLs). */
static char *propose_policy(const struct lc_chconf *c)
{
    const char *ref = lc_chconf_acl(c, ACL_PROPOSE);
    if (!ref || !*ref)
        return strdup(DEFAULT_PROPOSE_POLICY);
    if (ref[0] == '/')
        return strdup(ref);
    char *p = NULL;
    if (asprintf(&p, "/Channel/Application/%s", ref) < 0)
        return NULL;
    return p;
}

static int add_block_file(struct endorser *e, const char *path, struct lc_errbuf *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    Common__Block *b = NULL;
    struct channel ch = {0};
    int r = read_file(path, MAX_BLOCK_FILE, &buf, &len, err);
    if (r < 0)
        return r;
    r = lc_wire_unpack(&common__block__descriptor, buf, len, (ProtobufCMessage **)&b, err);
    if (r < 0)
        goto fail;
    if (!b->header || b->header->number != 0 || !b->data || b->data->n_data != 1) {
        r = lc_fail(err, LC_EINVALID, "not a genesis block (block 0 with one config envelope)");
        goto fail;
    }
    r = lc_chconf_from_block(b, e->identity_cache, err, &ch.conf);
    if (r == 0)
        r = config_txid(b, &ch.genesis_txid, err);
    if (r < 0)
        goto fail;
    ch.id = strdup(lc_chconf_channel_id(ch.conf));
    ch.propose_policy = propose_policy(ch.conf);
    if (!ch.id || !ch.propose_policy) {
        r = lc_fail(err, -ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < e->n_channels; i++) {
        if (strcmp(e->channels[i].id, ch.id) == 0) {
            r = lc_fail(err, LC_EEXISTS, "channel %s: a second genesis block", ch.id);
            goto fail;
        }
    }
    if (e->n_channels == MAX_CHANNELS) {
        r = lc_fail(err, LC_ETOOBIG, "more than %d channels", MAX_CHANNELS);
        goto fail;
    }
    struct channel *nc = realloc(e->channels, (e->n_channels + 1) * sizeof *nc);
    if (!nc) {
        r = lc_fail(err, -ENOMEM, "out of memory");
        goto fail;
    }
    e->channels = nc;
    e->channels[e->n_channels++] = ch;
    lc_log_debug(MOD, "genesis loaded channel=%s file=%s", ch.id, path);
    lc_wire_block_free(b);
    free(buf);
    return 0;
fail:
    lc_errbuf_prefix(err, "genesis %s: ", path);
    lc_chconf_free(ch.conf);
    free(ch.id);
    free(ch.genesis_txid);
    free(ch.propose_policy);
    lc_wire_block_free(b);
    free(buf);
    return r;
}

static int skip_dot(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* A file, or every regular file (not starting with '.') of a directory in name order. */
static int add_genesis(struct endorser *e, const char *path, struct lc_errbuf *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return lc_fail(err, -errno, "genesis %s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return add_block_file(e, path, err);
    struct dirent **names = NULL;
    int n = scandir(path, &names, skip_dot, alphasort);
    if (n < 0)
        return lc_fail(err, -errno, "genesis %s: %s", path, strerror(errno));
    int r = 0;
    size_t added = 0;
    for (int i = 0; i < n; i++) {
        char file[PATH_MAX];
        if (r == 0 &&
            snprintf(file, sizeof file, "%s/%s", path, names[i]->d_name) >= (int)sizeof file)
            r = lc_fail(err, -ENAMETOOLONG, "genesis %s: path too long", path);
        if (r == 0 && stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
            r = add_block_file(e, file, err);
            added++;
        }
        free(names[i]);
    }
    free(names);
    if (r == 0 && added == 0)
        r = lc_fail(err, LC_ENOTFOUND, "genesis %s: no block files in the directory", path);
    return r;
}

static int parse_aliases(struct endorser *e, const char *text, struct lc_errbuf *err)
{
    if (!text || !*text)
        return 0;
    char *copy = strdup(text);
    if (!copy)
        return lc_fail(err, -ENOMEM, "out of memory");
    int r = 0;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item && r == 0;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq || eq == item || !eq[1]) {
            r = lc_fail(err, LC_ESYNTAX, "chaincodes: \"%s\" is not name=module", item);
            break;
        }
        *eq = '\0';
        const struct cc_chaincode *m = endorser_registry_find(eq + 1);
        if (!m) {
            r = lc_fail(err, LC_ENOTFOUND,
                        "chaincodes: no module \"%s\" (have example02, kv, asset)", eq + 1);
            break;
        }
        struct cc_alias *na = realloc(e->aliases, (e->n_aliases + 1) * sizeof *na);
        char *name = strdup(item);
        if (!na || !name) {
            free(name);
            if (na)
                e->aliases = na;
            r = lc_fail(err, -ENOMEM, "out of memory");
            break;
        }
        e->aliases = na;
        e->aliases[e->n_aliases++] = (struct cc_alias){name, m};
    }
    free(copy);
    return r;
}

static int lock_state_dir(struct endorser *e, const char *dir, struct lc_errbuf *err)
{
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return lc_fail(err, -errno, "state directory %s: %s", dir, strerror(errno));
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, LOCK_FILE) >= (int)sizeof path)
        return lc_fail(err, -ENAMETOOLONG, "state directory %s: path too long", dir);
    e->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (e->lock_fd < 0)
        return lc_fail(err, -errno, "state directory %s: %s", dir, strerror(errno));
    if (flock(e->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        int en = errno;
        close(e->lock_fd);
        e->lock_fd = -1;
        if (en == EWOULDBLOCK)
            return lc_fail(err, LC_EUNAVAIL, "state directory %s is in use by another endorser",
                           dir);
        return lc_fail(err, -en, "state directory %s: lock: %s", dir, strerror(en));
    }
    return 0;
}

struct genesis_arg {
    struct channel *ch;
};

static int apply_genesis(struct lc_kv_txn *txn, void *arg, struct lc_errbuf *err)
{
    struct channel *ch = ((struct genesis_arg *)arg)->ch;
    return lc_state_apply_config(ch->state, txn, 0, ch->genesis_txid, ch->conf, err);
}

/* Opens <dir>/<channel> and brings it to at least height 1 with the genesis block. */
static int open_replica(struct endorser *e, struct channel *ch, const char *dir,
                        struct lc_errbuf *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, ch->id) >= (int)sizeof path)
        return lc_fail(err, -ENAMETOOLONG, "state directory %s: path too long", dir);
    struct lc_kv_options ko = {
        .map_size = e->map_size,
        .max_map_size = MAX_MAP_SIZE > e->map_size ? MAX_MAP_SIZE : e->map_size,
        .max_dbs = 8,
        .flags = e->nosync ? LC_KV_NOSYNC : LC_KV_NOMETASYNC,
    };
    int r = lc_kv_env_open(path, &ko, &ch->env, err);
    if (r == 0)
        r = lc_state_open(ch->env, err, &ch->state);
    if (r < 0)
        goto fail;
    struct lc_kv_txn *txn = NULL;
    uint64_t height = 0;
    r = lc_kv_txn_begin_read(ch->env, &txn, err);
    if (r == 0)
        r = lc_state_height(ch->state, txn, &height, err);
    if (r == 0 && height > 0) {
        struct lc_state_txinfo ti;
        r = lc_state_txid_get(ch->state, txn, ch->genesis_txid, &ti, err);
        if (r == LC_ENOTFOUND || (r == 0 && (ti.block != 0 || ti.tx != 0)))
            r = lc_fail(err, LC_EMISMATCH,
                        "the replica does not hold this genesis block (another network?)");
    }
    lc_kv_txn_abort(txn);
    if (r < 0)
        goto fail;
    if (height == 0) {
        struct genesis_arg a = {ch};
        r = lc_kv_update(ch->env, apply_genesis, &a, err);
        if (r < 0)
            goto fail;
        lc_log_info(MOD, "replica created channel=%s dir=%s", ch->id, path);
    }
    return 0;
fail:
    lc_errbuf_prefix(err, "state %s: ", path);
    return r;
}

void endorser_free(struct endorser *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_channels; i++) {
        struct channel *ch = &e->channels[i];
        lc_state_free(ch->state);
        lc_kv_env_close(ch->env);
        lc_chconf_free(ch->conf);
        free(ch->id);
        free(ch->genesis_txid);
        free(ch->propose_policy);
    }
    free(e->channels);
    for (size_t i = 0; i < e->n_aliases; i++)
        free(e->aliases[i].name);
    free(e->aliases);
    lc_signer_free(e->signer);
    if (e->lock_fd >= 0)
        close(e->lock_fd);
    free(e);
}

int endorser_new(const struct endorser_options *o, struct lc_errbuf *err, struct endorser **ret)
{
    struct endorser *e = calloc(1, sizeof *e);
    if (!e)
        return lc_fail(err, -ENOMEM, "out of memory");
    e->lock_fd = -1;
    e->max_args_bytes = o->max_args_bytes ? o->max_args_bytes : DEFAULT_ARGS_BYTES;
    e->max_msg_bytes = o->max_msg_bytes ? o->max_msg_bytes : LC_RPC_DEFAULT_MAX_MSG;
    e->identity_cache = o->identity_cache;
    e->map_size = o->state_map_size ? o->state_map_size : DEFAULT_MAP_SIZE;
    e->nosync = o->state_nosync;
    int r = 0;
    if (!o->state_dir || !*o->state_dir || !o->msp_dir || !o->mspid || o->n_genesis == 0) {
        r = lc_fail(err, LC_EINVALID,
                    "state directory, MSP directory, MSP id and at least one "
                    "genesis block are required");
        goto fail;
    }
    r = parse_aliases(e, o->chaincodes, err);
    if (r == 0)
        r = lc_signer_load(o->msp_dir, o->mspid, err, &e->signer);
    if (r < 0)
        goto fail;
    for (size_t i = 0; i < o->n_genesis && r == 0; i++)
        r = add_genesis(e, o->genesis[i], err);
    if (r == 0)
        r = lock_state_dir(e, o->state_dir, err);
    for (size_t i = 0; i < e->n_channels && r == 0; i++)
        r = open_replica(e, &e->channels[i], o->state_dir, err);
    if (r < 0)
        goto fail;
    *ret = e;
    return 0;
fail:
    endorser_free(e);
    return r;
}

size_t endorser_channel_count(const struct endorser *e)
{
    return e->n_channels;
}

const char *endorser_channel_id(const struct endorser *e, size_t i)
{
    return i < e->n_channels ? e->channels[i].id : NULL;
}

static struct channel *find_channel(struct endorser *e, const char *id)
{
    for (size_t i = 0; i < e->n_channels; i++)
        if (strcmp(e->channels[i].id, id) == 0)
            return &e->channels[i];
    return NULL;
}

struct lc_state *endorser_channel_state(struct endorser *e, const char *channel_id)
{
    struct channel *ch = find_channel(e, channel_id);
    return ch ? ch->state : NULL;
}

static const struct cc_chaincode *find_module(const struct endorser *e, const char *cc)
{
    for (size_t i = 0; i < e->n_aliases; i++)
        if (strcmp(e->aliases[i].name, cc) == 0)
            return e->aliases[i].module;
    return endorser_registry_find(cc);
}

/* ---- the pipeline ------------------------------------------------------------------------- */

static void reject(struct endorser_outcome *o, enum lc_rpc_code code, const char *what,
                   const struct lc_errbuf *eb)
{
    o->code = code;
    snprintf(o->msg, sizeof o->msg, "%.100s: %.400s", what, eb->msg);
}

/* Answers with a ProposalResponse of status 500 and a message (no payload). */
static void respond_error(struct endorser_outcome *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void respond_error(struct endorser_outcome *o, const char *fmt, ...)
{
    char msg[500];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct lc_errbuf eb;
    int r = lc_proposal_response_new(500, msg, NULL, 0, NULL, 0, NULL, &eb, &o->resp);
    if (r < 0) {
        o->code = LC_RPC_INTERNAL;
        snprintf(o->msg, sizeof o->msg, "%.400s", eb.msg);
        return;
    }
    o->code = LC_RPC_OK;
    snprintf(o->msg, sizeof o->msg, "%.499s", msg);
}

/* Simulates and builds the response; the snapshot txn is already open. */
static void simulate(struct endorser *e, struct channel *ch, const struct lc_proposal *p,
                     struct lc_identity *creator, const Weft__ChaincodeDefinition *def,
                     const struct cc_chaincode *module, struct lc_kv_txn *txn,
                     struct endorser_outcome *o)
{
    const Common__ChannelHeader *chdr = lc_proposal_channel_header(p);
    size_t creator_len;
    const uint8_t *creator_bytes = lc_proposal_creator(p, &creator_len);
    struct endorser_sim_input in = {
        .state = ch->state,
        .txn = txn,
        .ns = def->name,
        .channel = ch->id,
        .txid = lc_proposal_txid(p),
        .creator = creator_bytes,
        .creator_len = creator_len,
        .creator_mspid = lc_identity_mspid(creator),
        .ts_seconds = chdr->timestamp ? chdr->timestamp->seconds : 0,
        .ts_nanos = chdr->timestamp ? chdr->timestamp->nanos : 0,
        .input = lc_proposal_input(p),
        .payload = lc_proposal_payload(p),
        .max_bytes = e->max_msg_bytes,
    };
    struct cc_stub *sim = NULL;
    uint8_t *rwset = NULL, *events = NULL, *prp = NULL;
    size_t rwset_len = 0, events_len = 0, prp_len = 0;
    struct lc_errbuf eb = {{0}};
    int r = endorser_sim_new(&in, &eb, &sim);
    if (r == 0)
        r = endorser_sim_read_lifecycle(sim, &eb);
    if (r < 0) {
        respond_error(o, "simulation of %s failed: %s", def->name, eb.msg);
        goto out;
    }
    endorser_sim_invoke(sim, module);
    const Protos__Response *resp = endorser_sim_response(sim);
    if (resp->status >= 400 && resp->status < 500) {
        r = lc_proposal_response_new(resp->status, resp->message, resp->payload.data,
                                     resp->payload.len, NULL, 0, NULL, &eb, &o->resp);
        goto built;
    }
    r = endorser_sim_rwset(sim, e->max_msg_bytes, &rwset, &rwset_len, &eb);
    if (r == 0 && resp->status < 400)
        r = endorser_sim_event(sim, e->max_msg_bytes, &events, &events_len, &eb);
    if (r == 0) {
        struct lc_proposal_action act = {
            .proposal_hash = lc_proposal_hash(p),
            .results = rwset,
            .results_len = rwset_len,
            .events = events,
            .events_len = events_len,
            .response = resp,
            .cc_name = def->name,
            .cc_version = def->version,
        };
        r = lc_proposal_prp_pack(&act, e->max_msg_bytes, &prp, &prp_len, &eb);
    }
    if (r < 0) {
        respond_error(o, "simulation of %s failed: %s", def->name, eb.msg);
        goto out;
    }
    r = lc_proposal_response_new(resp->status, resp->message, resp->payload.data, resp->payload.len,
                                 prp, prp_len, resp->status < 400 ? e->signer : NULL, &eb,
                                 &o->resp);
built:
    if (r < 0) {
        reject(o, LC_RPC_INTERNAL, "response", &eb);
        goto out;
    }
    o->code = LC_RPC_OK;
    if (resp->status >= 400)
        snprintf(o->msg, sizeof o->msg, "chaincode %.100s: status %d: %.300s", def->name,
                 (int)resp->status, resp->message);
out:
    free(prp);
    free(events);
    free(rwset);
    endorser_sim_free(sim);
}

static void pipeline(struct endorser *e, const Protos__SignedProposal *sp, time_t now,
                     struct endorser_outcome *o)
{
    struct lc_errbuf eb = {{0}};
    struct lc_proposal *p = NULL;
    struct lc_identity *creator = NULL;
    struct lc_kv_txn *txn = NULL;

    int r = lc_proposal_from_signed(sp, &eb, &p);
    if (r < 0) {
        reject(o, LC_RPC_INVALID_ARGUMENT, "bad proposal", &eb);
        goto out;
    }
    struct channel *ch = find_channel(e, lc_proposal_channel_id(p));
    if (!ch) {
        respond_error(o, "channel '%.250s' not found", lc_proposal_channel_id(p));
        goto out;
    }
    r = lc_proposal_check_header(p, &eb);
    if (r < 0) {
        reject(o, LC_RPC_INVALID_ARGUMENT, "bad proposal", &eb);
        goto out;
    }
    r = lc_proposal_check_creator(p, lc_chconf_msp_mgr(ch->conf), now, &eb, &creator);
    if (r < 0) {
        reject(o, r == -ENOMEM ? LC_RPC_INTERNAL : LC_RPC_UNAUTHENTICATED, "access denied", &eb);
        goto out;
    }
    /* One snapshot for the TxID check and the whole simulation. */
    r = lc_kv_txn_begin_read(ch->env, &txn, &eb);
    if (r < 0) {
        reject(o, LC_RPC_INTERNAL, "state", &eb);
        goto out;
    }
    struct lc_state_txinfo ti;
    r = lc_state_txid_get(ch->state, txn, lc_proposal_txid(p), &ti, &eb);
    if (r == 0) {
        o->code = LC_RPC_ALREADY_EXISTS;
        snprintf(o->msg, sizeof o->msg,
                 "duplicate transaction %s: committed in block %" PRIu64 " tx %" PRIu64,
                 lc_proposal_txid(p), ti.block, ti.tx);
        goto out;
    }
    if (r != LC_ENOTFOUND) {
        reject(o, LC_RPC_INTERNAL, "state", &eb);
        goto out;
    }
    r = lc_proposal_check_policy(p, ch->conf, ch->propose_policy, creator, &eb);
    if (r < 0) {
        reject(o, r == -ENOMEM ? LC_RPC_INTERNAL : LC_RPC_PERMISSION_DENIED, "access denied", &eb);
        goto out;
    }
    size_t args = lc_proposal_args_bytes(p);
    if (args > e->max_args_bytes) {
        o->code = LC_RPC_RESOURCE_EXHAUSTED;
        snprintf(o->msg, sizeof o->msg, "args: %zu bytes, over the limit of %zu", args,
                 e->max_args_bytes);
        goto out;
    }
    const char *cc = lc_proposal_chaincode(p);
    const Weft__ChaincodeDefinition *def = lc_chconf_chaincode(ch->conf, cc);
    if (!def) {
        respond_error(o, "chaincode %.100s is not defined on channel %s", cc, ch->id);
        goto out;
    }
    const struct cc_chaincode *module = find_module(e, cc);
    if (!module) {
        respond_error(o, "chaincode %.100s: this endorser has no module for it", cc);
        goto out;
    }
    simulate(e, ch, p, creator, def, module, txn, o);
out:
    lc_kv_txn_abort(txn);
    lc_identity_unref(creator);
    if (o->code != LC_RPC_OK || (o->resp && !o->resp->endorsement))
        lc_log_info(MOD, "proposal not endorsed channel=%.64s txid=%.64s grpc=%s cause=\"%s\"",
                    p ? lc_proposal_channel_id(p) : "?", p ? lc_proposal_txid(p) : "?",
                    lc_rpc_code_name(o->code), o->msg);
    else
        lc_log_debug(MOD, "proposal endorsed channel=%s txid=%s", lc_proposal_channel_id(p),
                     lc_proposal_txid(p));
    lc_proposal_free(p);
}

void endorser_process(struct endorser *e, const Protos__SignedProposal *sp, time_t now,
                      struct endorser_outcome *ret)
{
    memset(ret, 0, sizeof *ret);
    pipeline(e, sp, now, ret);
}

void endorser_outcome_done(struct endorser_outcome *o)
{
    lc_proposal_response_free(o->resp);
    o->resp = NULL;
}

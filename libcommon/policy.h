/* SPDX-License-Identifier: Apache-2.0 */
/* Fabric signature policies: the text language, its printer, and cauthdsl/implicit-meta evaluation.
 */
#ifndef LC_POLICY_H
#define LC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/policies.pb-c.h"
#include "msp/msp_principal.pb-c.h"

#include "libcommon/err.h"

/* Longest policy text the parser takes, in bytes, and the deepest gate nesting (the outermost
 * gate is depth 1). The same depth bound applies to envelopes checked, printed or evaluated. */
#define LC_POLICY_MAX_TEXT 65536
#define LC_POLICY_MAX_DEPTH 32

/* ---- text → SignaturePolicyEnvelope ---------------------------------------------------------
 *
 * The language (Fabric's policydsl):
 *   policy    = gate
 *   gate      = ("AND"|"And"|"and") "(" arg {"," arg} ")"        n = number of args
 *             | ("OR"|"Or"|"or") "(" arg {"," arg} ")"           n = 1
 *             | ("OutOf"|"outof"|"OUTOF") "(" k "," arg {"," arg} ")"   n = k
 *   arg       = gate | principal
 *   principal = 'MSPID.role' or "MSPID.role": MSPID is one or more of [A-Za-z0-9.-], the role
 *               (after the last '.') is member, admin, client, peer or orderer.
 * Spaces, tabs and newlines may surround every token. k is a decimal integer with
 * 0 <= k <= args + 1, the range Fabric accepts (k = 0 always passes, args + 1 never does).
 * The envelope has version 0; each principal mention adds one ROLE identity, in order of
 * mention, never deduplicated; each mention becomes signed_by(its index).
 */

/* Parses text (NUL-terminated) into the packed SignaturePolicyEnvelope bytes.
 * On success returns 0 and sets *ret_bytes and *ret_len (caller frees *ret_bytes with free()).
 * On a syntax error returns LC_ESYNTAX and, when ret_msg is not NULL, sets *ret_msg to a heap
 * string "column C: <what was expected or wrong>" (C counts bytes from 1 at the start of the
 * text), to be freed with lc_policy_msg_free(). Rejected: unbalanced parentheses, unknown
 * functions, bad principals or roles, empty argument lists, k out of range, trailing input,
 * nesting deeper than LC_POLICY_MAX_DEPTH, text longer than LC_POLICY_MAX_TEXT.
 * Returns -ENOMEM (no message) when memory runs out. Out-params are untouched on failure. */
int lc_policy_parse(const char *text, uint8_t **ret_bytes, size_t *ret_len, char **ret_msg);

/* Same as lc_policy_parse but hands back the decoded envelope; the caller frees it with
 * common__signature_policy_envelope__free_unpacked(env, NULL). */
int lc_policy_parse_envelope(const char *text, Common__SignaturePolicyEnvelope **ret_env,
                             char **ret_msg);

/* Frees a message from lc_policy_parse*; accepts NULL. */
void lc_policy_msg_free(char *msg);

/* ---- SignaturePolicyEnvelope → text --------------------------------------------------------- */

/* Prints env in the language above: NOutOf with n = 1 prints as OR, n = number of rules as AND,
 * anything else as OutOf(n, ...); principals print as 'MSPID.role'. Parsing the output gives
 * the same bytes back for every envelope lc_policy_parse produces. A bare signed_by at the root
 * (which the language cannot write) prints as OR('MSPID.role'): same meaning, other bytes.
 * Rejects (LC_EINVALID, cause in err): version != 0, no rule, an identity index out of range,
 * a principal that is not a ROLE or whose role or MSP id the language cannot write, an NOutOf
 * without rules or with n outside 0..rules+1, nesting deeper than LC_POLICY_MAX_DEPTH;
 * LC_EDECODE for an MSPRole that does not decode; LC_ETOOBIG when the text would exceed
 * LC_POLICY_MAX_TEXT. On success *ret_text is a NUL-terminated heap string (caller frees with
 * free()). */
int lc_policy_print(const Common__SignaturePolicyEnvelope *env, char **ret_text,
                    struct lc_errbuf *err);

/* Decodes packed envelope bytes, then prints as lc_policy_print. LC_EDECODE if they do not
 * decode. */
int lc_policy_print_bytes(const uint8_t *bytes, size_t len, char **ret_text, struct lc_errbuf *err);

/* ---- evaluation (cauthdsl semantics) -------------------------------------------------------- */

/* Decides whether an opaque identity satisfies a principal: 0 = satisfies, anything else = not. */
typedef int (*lc_policy_satisfies_fn)(void *identity, const Common__MSPPrincipal *principal,
                                      void *ctx);

/* Checks that env can be evaluated, as Fabric does when it compiles a policy: version 0, a rule
 * at every node, every signed_by index within identities, nesting within LC_POLICY_MAX_DEPTH.
 * Returns 0 or LC_EINVALID with the cause in err. */
int lc_policy_check(const Common__SignaturePolicyEnvelope *env, struct lc_errbuf *err);

/* Evaluates env over already-validated identities (ids[0..n_ids-1], opaque to this module):
 * signed_by claims the first identity not yet used that satisfies its principal; NOutOf runs its
 * rules in order, each on a copy of the used flags that is kept only if that rule passes, and
 * passes when at least n rules pass. Greedy, no backtracking, each identity counts once.
 * Returns 0 when satisfied, LC_EPOLICY when not, LC_EINVALID when lc_policy_check fails,
 * -ENOMEM; cause in err. */
int lc_policy_eval(const Common__SignaturePolicyEnvelope *env, void *const *ids, size_t n_ids,
                   lc_policy_satisfies_fn satisfies, void *ctx, struct lc_errbuf *err);

/* ---- signed data → identity set → evaluation ------------------------------------------------ */

/* One signature over some data by a serialized identity (Fabric's SignedData). The pointers are
 * borrowed for the duration of the call they are passed to. */
struct lc_signed_data {
    const uint8_t *data;
    size_t data_len;
    const uint8_t *identity; /* serialized msp.SerializedIdentity */
    size_t identity_len;
    const uint8_t *signature;
    size_t signature_len;
};

/* How identities are made and checked; the msp module or a test supplies these. */
struct lc_policy_identity_ops {
    /* Deserializes and validates identity bytes: 0 and *ret_identity, or negative to drop the
     * entry (-ENOMEM aborts the whole preparation). */
    int (*deserialize)(void *ctx, const uint8_t *bytes, size_t len, void **ret_identity);
    /* The identity's dedup key (Fabric: MSP id + identity id); must stay valid while the
     * identity lives. NULL drops the entry. */
    const char *(*key)(void *ctx, void *identity);
    /* Verifies sig over data: 0 if good, negative to drop (-ENOMEM aborts). */
    int (*verify)(void *ctx, void *identity, const uint8_t *data, size_t data_len,
                  const uint8_t *sig, size_t sig_len);
    lc_policy_satisfies_fn satisfies;           /* called with ctx as its last argument */
    void (*release)(void *ctx, void *identity); /* frees an identity; may be NULL */
};

/* The identities a signature set proves, prepared once, evaluated against any number of
 * policies (e.g. all sub-policies of an implicit-meta policy). */
struct lc_policy_idset;

/* Prepares the identity set from sd[0..n_sd-1] as Fabric does: deserialize each identity,
 * dropping failures; skip an identity whose key was already accepted (before verifying, so
 * repeats cost nothing); verify its signature over its data, dropping failures; keep the rest
 * in order. ops and ctx must outlive the set. With the channel's MSPs, pass the msp module's
 * lc_msp_policy_ops and its struct lc_msp_mgr as ctx (chconf does). Returns 0 and *ret_set (free
 * with lc_policy_idset_free), or -ENOMEM. Dropped entries are not errors. */
int lc_policy_idset_new(const struct lc_signed_data *sd, size_t n_sd,
                        const struct lc_policy_identity_ops *ops, void *ctx,
                        struct lc_policy_idset **ret_set);

/* How many identities survived preparation. */
size_t lc_policy_idset_count(const struct lc_policy_idset *set);

/* Evaluates env over the set (see lc_policy_eval). */
int lc_policy_idset_eval(const struct lc_policy_idset *set,
                         const Common__SignaturePolicyEnvelope *env, struct lc_errbuf *err);

/* Frees the set and releases its identities; accepts NULL. */
void lc_policy_idset_free(struct lc_policy_idset *set);

/* One-shot: prepare the set from sd, evaluate env, free the set. */
int lc_policy_eval_signed(const Common__SignaturePolicyEnvelope *env,
                          const struct lc_signed_data *sd, size_t n_sd,
                          const struct lc_policy_identity_ops *ops, void *ctx,
                          struct lc_errbuf *err);

/* ---- implicit-meta policies ----------------------------------------------------------------- */

/* Decodes an ImplicitMetaPolicy value. Rejects bytes that do not decode (LC_EDECODE), an empty
 * sub_policy and a rule other than ANY, ALL, MAJORITY (LC_EINVALID). Caller frees the result
 * with common__implicit_meta_policy__free_unpacked(imp, NULL). */
int lc_policy_implicit_decode(const uint8_t *bytes, size_t len,
                              Common__ImplicitMetaPolicy **ret_imp, struct lc_errbuf *err);

/* How many of n sub-policies must pass: ANY 1, ALL n, MAJORITY n/2+1; 0 when n is 0. */
size_t lc_policy_implicit_threshold(Common__ImplicitMetaPolicy__Rule rule, size_t n);

/* Evaluates an implicit-meta policy over n_children sub-policies: eval_child(ctx, i) returns 0
 * when child i's sub-policy passes; -ENOMEM aborts; anything else counts as a failure. Stops as
 * soon as the threshold is met. Returns 0, LC_EPOLICY (err says how many passed of how many
 * needed), or -ENOMEM. */
int lc_policy_implicit_eval(const Common__ImplicitMetaPolicy *imp, size_t n_children,
                            int (*eval_child)(void *ctx, size_t i), void *ctx,
                            struct lc_errbuf *err);

#endif

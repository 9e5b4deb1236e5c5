/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for the policy module: text → envelope bytes, syntax errors, printing, evaluation. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/policy.h"

/* ---- building expected envelopes by hand ---- */

static Common__MSPPrincipal *mk_role(const char *msp, Common__MSPRole__MSPRoleType role)
{
    Common__MSPRole mr = COMMON__MSPROLE__INIT;
    mr.msp_identifier = (char *)msp;
    mr.role = role;
    Common__MSPPrincipal *p = malloc(sizeof *p);
    ck_assert_ptr_nonnull(p);
    common__mspprincipal__init(p);
    p->principal_classification = COMMON__MSPPRINCIPAL__CLASSIFICATION__ROLE;
    p->principal.len = common__msprole__get_packed_size(&mr);
    p->principal.data = malloc(p->principal.len);
    ck_assert_ptr_nonnull(p->principal.data);
    common__msprole__pack(&mr, p->principal.data);
    return p;
}

static Common__SignaturePolicy *mk_sb(int32_t i)
{
    Common__SignaturePolicy *r = malloc(sizeof *r);
    ck_assert_ptr_nonnull(r);
    common__signature_policy__init(r);
    r->type_case = COMMON__SIGNATURE_POLICY__TYPE_SIGNED_BY;
    r->signed_by = i;
    return r;
}

/* n out of the count rules that follow. */
static Common__SignaturePolicy *mk_nof(int32_t n, size_t count, ...)
{
    Common__SignaturePolicy *r = malloc(sizeof *r);
    Common__SignaturePolicy__NOutOf *no = malloc(sizeof *no);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_nonnull(no);
    common__signature_policy__init(r);
    common__signature_policy__nout_of__init(no);
    no->n = n;
    no->n_rules = count;
    no->rules = count ? malloc(count * sizeof *no->rules) : NULL;
    va_list ap;
    va_start(ap, count);
    for (size_t i = 0; i < count; i++)
        no->rules[i] = va_arg(ap, Common__SignaturePolicy *);
    va_end(ap);
    r->type_case = COMMON__SIGNATURE_POLICY__TYPE_N_OUT_OF;
    r->n_out_of = no;
    return r;
}

/* Envelope with rule and count identities that follow. */
static Common__SignaturePolicyEnvelope *mk_env(Common__SignaturePolicy *rule, size_t count, ...)
{
    Common__SignaturePolicyEnvelope *e = malloc(sizeof *e);
    ck_assert_ptr_nonnull(e);
    common__signature_policy_envelope__init(e);
    e->rule = rule;
    e->n_identities = count;
    e->identities = count ? malloc(count * sizeof *e->identities) : NULL;
    va_list ap;
    va_start(ap, count);
    for (size_t i = 0; i < count; i++)
        e->identities[i] = va_arg(ap, Common__MSPPrincipal *);
    va_end(ap);
    return e;
}

static void env_free(Common__SignaturePolicyEnvelope *e)
{
    common__signature_policy_envelope__free_unpacked(e, NULL);
}

static uint8_t *pack_env(const Common__SignaturePolicyEnvelope *e, size_t *len)
{
    *len = common__signature_policy_envelope__get_packed_size(e);
    uint8_t *b = malloc(*len ? *len : 1);
    ck_assert_ptr_nonnull(b);
    common__signature_policy_envelope__pack(e, b);
    return b;
}

static void assert_parses_to(const char *text, Common__SignaturePolicyEnvelope *expect)
{
    size_t elen;
    uint8_t *eb = pack_env(expect, &elen);
    uint8_t *got = NULL;
    size_t glen = 0;
    char *msg = NULL;
    int r = lc_policy_parse(text, &got, &glen, &msg);
    ck_assert_msg(r == 0, "%s: %d %s", text, r, msg ? msg : "");
    ck_assert_msg(glen == elen && memcmp(got, eb, elen) == 0, "bytes differ for %s", text);
    free(got);
    free(eb);
    env_free(expect);
}

#define MEMBER COMMON__MSPROLE__MSPROLE_TYPE__MEMBER
#define ADMIN COMMON__MSPROLE__MSPROLE_TYPE__ADMIN
#define CLIENT COMMON__MSPROLE__MSPROLE_TYPE__CLIENT
#define PEER COMMON__MSPROLE__MSPROLE_TYPE__PEER
#define ORDERER COMMON__MSPROLE__MSPROLE_TYPE__ORDERER

START_TEST(parse_table_matches_hand_built_envelopes)
{
    assert_parses_to("OR('Org1MSP.member')",
                     mk_env(mk_nof(1, 1, mk_sb(0)), 1, mk_role("Org1MSP", MEMBER)));
    assert_parses_to("AND('Org1MSP.member', OR('Org2MSP.peer', 'Org3MSP.admin'))",
                     mk_env(mk_nof(2, 2, mk_sb(0), mk_nof(1, 2, mk_sb(1), mk_sb(2))), 3,
                            mk_role("Org1MSP", MEMBER), mk_role("Org2MSP", PEER),
                            mk_role("Org3MSP", ADMIN)));
    assert_parses_to("OutOf(2, 'A.member', 'B.member', 'C.member')",
                     mk_env(mk_nof(2, 3, mk_sb(0), mk_sb(1), mk_sb(2)), 3, mk_role("A", MEMBER),
                            mk_role("B", MEMBER), mk_role("C", MEMBER)));
    /* Identities in order of mention, never deduplicated. */
    assert_parses_to(
        "AND('A.member', 'A.member')",
        mk_env(mk_nof(2, 2, mk_sb(0), mk_sb(1)), 2, mk_role("A", MEMBER), mk_role("A", MEMBER)));
    /* Double quotes, the other spellings, whitespace of every kind. */
    assert_parses_to(" \tand(\"A.client\",\n Or( 'B.orderer' ,\"C.peer\"\r) ) \n",
                     mk_env(mk_nof(2, 2, mk_sb(0), mk_nof(1, 2, mk_sb(1), mk_sb(2))), 3,
                            mk_role("A", CLIENT), mk_role("B", ORDERER), mk_role("C", PEER)));
    assert_parses_to("And(outof(1,'A.member'),OUTOF(1,'B.member'))",
                     mk_env(mk_nof(2, 2, mk_nof(1, 1, mk_sb(0)), mk_nof(1, 1, mk_sb(1))), 2,
                            mk_role("A", MEMBER), mk_role("B", MEMBER)));
    /* MSP ids with dots and dashes: the role is after the last dot. */
    assert_parses_to("OR('org-1.example.com.admin', 'x.member.peer')",
                     mk_env(mk_nof(1, 2, mk_sb(0), mk_sb(1)), 2,
                            mk_role("org-1.example.com", ADMIN), mk_role("x.member", PEER)));
    /* Fabric's k range is 0..args+1. */
    assert_parses_to("OutOf(0, 'A.member')",
                     mk_env(mk_nof(0, 1, mk_sb(0)), 1, mk_role("A", MEMBER)));
    assert_parses_to("OutOf(2, 'A.member')",
                     mk_env(mk_nof(2, 1, mk_sb(0)), 1, mk_role("A", MEMBER)));
    assert_parses_to(
        "OutOf(03, 'A.member', 'B.member')",
        mk_env(mk_nof(3, 2, mk_sb(0), mk_sb(1)), 2, mk_role("A", MEMBER), mk_role("B", MEMBER)));
}
END_TEST

static void assert_hex(const char *text, const char *hex)
{
    uint8_t *got = NULL;
    size_t glen = 0;
    ck_assert_int_eq(lc_policy_parse(text, &got, &glen, NULL), 0);
    char buf[512] = {0};
    for (size_t i = 0; i < glen && 2 * i + 2 < sizeof buf; i++)
        snprintf(buf + 2 * i, 3, "%02x", got[i]);
    ck_assert_str_eq(buf, hex);
    free(got);
}

START_TEST(parse_writes_go_canonical_zero_values)
{
    /* rule{n_out_of{n=1, rules[{signed_by=0 → 08 00}]}}, identity{ROLE omitted, MSPRole{"A"}} */
    assert_hex("OR('A.member')", "1208"
                                 "12060801"
                                 "12020800"
                                 "1a05"
                                 "12030a0141");
    /* n = 0 is omitted, an admin role is written. */
    assert_hex("OutOf(0, 'A.admin')", "1206"
                                      "1204"
                                      "12020800"
                                      "1a07"
                                      "12050a01411001");
    /* Second mention is signed_by=1. */
    assert_hex("AND('A.peer','B.member')", "120c"
                                           "120a0802"
                                           "12020800"
                                           "12020801"
                                           "1a07"
                                           "12050a01411003"
                                           "1a05"
                                           "12030a0142");
}
END_TEST

static void assert_syntax(const char *text, size_t column, const char *needle)
{
    uint8_t *got = (uint8_t *)0x1;
    size_t glen = 12345;
    char *msg = NULL;
    int r = lc_policy_parse(text, &got, &glen, &msg);
    ck_assert_msg(r == LC_ESYNTAX, "%s: expected LC_ESYNTAX, got %d", text, r);
    ck_assert_ptr_eq(got, (uint8_t *)0x1);
    ck_assert_uint_eq(glen, 12345);
    ck_assert_ptr_nonnull(msg);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "column %zu: ", column);
    ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0, "%s: want '%s', got '%s'", text,
                  prefix, msg);
    ck_assert_msg(strstr(msg, needle) != NULL, "%s: '%s' not in '%s'", text, needle, msg);
    lc_policy_msg_free(msg);
}

START_TEST(syntax_unbalanced_parentheses)
{
    assert_syntax("AND('A.member'", 15, "expected ',' or ')'");
    assert_syntax("AND(OR('A.member')", 19, "expected ',' or ')'");
    assert_syntax("AND('A.member'))", 16, "expected end of input");
    assert_syntax("AND 'A.member')", 5, "expected '('");
}
END_TEST

START_TEST(syntax_unknown_function)
{
    assert_syntax("XOR('A.member')", 1, "unknown function 'XOR'");
    assert_syntax("AND(NOT('A.member'))", 5, "unknown function 'NOT'");
    assert_syntax("aNd('A.member')", 1, "unknown function");
    assert_syntax("Outof(1, 'A.member')", 1, "unknown function");
}
END_TEST

START_TEST(syntax_bad_principal_or_role)
{
    assert_syntax("AND('A.superuser')", 8, "unknown role 'superuser'");
    assert_syntax("AND('A.Member')", 8, "unknown role 'Member'");
    assert_syntax("AND('A.')", 8, "unknown role ''");
    assert_syntax("AND('A.member.x')", 15, "unknown role 'x'");
    assert_syntax("AND('Amember')", 6, "'MSPID.role'");
    assert_syntax("AND('.member')", 6, "MSP id");
    assert_syntax("AND('A B.member')", 7, "invalid character ' '");
    assert_syntax("AND('A_B.member')", 7, "invalid character '_'");
    assert_syntax("AND('A\xc3\xa9.member')", 7, "byte 0xc3");
    assert_syntax("AND('A.member)", 15, "closing '");
    assert_syntax("AND('A.member\")", 16, "closing '");
    assert_syntax("AND(A.member)", 5, "unknown function 'A'");
    assert_syntax("'A.member'", 1, "expected AND, OR or OutOf");
}
END_TEST

START_TEST(syntax_empty_arguments)
{
    assert_syntax("", 1, "expected AND, OR or OutOf");
    assert_syntax("   ", 4, "end of input");
    assert_syntax("AND()", 5, "expected a principal");
    assert_syntax("OR( )", 5, "expected a principal");
    assert_syntax("AND('A.member',)", 16, "expected a principal");
    assert_syntax("AND(,'A.member')", 5, "expected a principal");
    assert_syntax("OutOf(1)", 8, "expected ','");
    assert_syntax("OutOf(1,)", 9, "expected a principal");
    assert_syntax("OutOf()", 7, "expected the count k");
    assert_syntax("AND('A.member' 'B.member')", 16, "expected ',' or ')'");
}
END_TEST

START_TEST(syntax_k_out_of_range)
{
    assert_syntax("OutOf(4, 'A.member', 'B.member')", 7, "k out of range");
    assert_syntax("OutOf(99999999999999999999, 'A.member')", 7, "k out of range");
    assert_syntax("OutOf(-1, 'A.member')", 7, "expected the count k");
    assert_syntax("OutOf(1.5, 'A.member')", 8, "expected ','");
    assert_syntax("OutOf(007, 'A.member', 'B.member')", 7, "expected 0..3");
}
END_TEST

START_TEST(syntax_trailing_garbage)
{
    assert_syntax("OR('A.member') x", 16, "expected end of input");
    assert_syntax("OR('A.member'),OR('B.member')", 15, "expected end of input");
}
END_TEST

static char *nested(unsigned levels)
{
    size_t len = levels * 4 + 16;
    char *s = malloc(len);
    ck_assert_ptr_nonnull(s);
    size_t o = 0;
    for (unsigned i = 0; i < levels; i++)
        o += (size_t)snprintf(s + o, len - o, "OR(");
    o += (size_t)snprintf(s + o, len - o, "'A.member'");
    for (unsigned i = 0; i < levels; i++)
        s[o++] = ')';
    s[o] = '\0';
    return s;
}

START_TEST(syntax_nesting_too_deep)
{
    char *ok = nested(LC_POLICY_MAX_DEPTH);
    uint8_t *b = NULL;
    size_t len;
    ck_assert_int_eq(lc_policy_parse(ok, &b, &len, NULL), 0);
    free(b);
    free(ok);
    char *deep = nested(LC_POLICY_MAX_DEPTH + 1);
    assert_syntax(deep, 3 * LC_POLICY_MAX_DEPTH + 1, "nested");
    free(deep);
}
END_TEST

START_TEST(syntax_text_too_long)
{
    char *s = malloc(LC_POLICY_MAX_TEXT + 2);
    ck_assert_ptr_nonnull(s);
    memset(s, ' ', LC_POLICY_MAX_TEXT + 1);
    s[LC_POLICY_MAX_TEXT + 1] = '\0';
    memcpy(s, "OR('A.member')", 14);
    /* Exactly the limit is fine. */
    s[LC_POLICY_MAX_TEXT] = '\0';
    uint8_t *b = NULL;
    size_t len;
    ck_assert_int_eq(lc_policy_parse(s, &b, &len, NULL), 0);
    free(b);
    s[LC_POLICY_MAX_TEXT] = ' ';
    assert_syntax(s, LC_POLICY_MAX_TEXT + 1, "at most");
    free(s);
}
END_TEST

START_TEST(syntax_error_without_message_pointer)
{
    uint8_t *b = NULL;
    size_t len;
    ck_assert_int_eq(lc_policy_parse("AND(", &b, &len, NULL), LC_ESYNTAX);
    ck_assert_ptr_null(b);
    lc_policy_msg_free(NULL);
}
END_TEST

/* ---- printing ---- */

static void assert_round_trip(const char *text, const char *canonical)
{
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t l1, l2;
    char *msg = NULL;
    ck_assert_msg(lc_policy_parse(text, &b1, &l1, &msg) == 0, "%s: %s", text, msg);
    char *out = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_policy_print_bytes(b1, l1, &out, &err), 0);
    ck_assert_str_eq(out, canonical);
    ck_assert_int_eq(lc_policy_parse(out, &b2, &l2, NULL), 0);
    ck_assert_uint_eq(l1, l2);
    ck_assert_int_eq(memcmp(b1, b2, l1), 0);
    free(out);
    free(b1);
    free(b2);
}

START_TEST(print_round_trips)
{
    assert_round_trip("OR('Org1MSP.member')", "OR('Org1MSP.member')");
    assert_round_trip("AND('Org1MSP.member', OR('Org2MSP.peer', 'Org3MSP.admin'))",
                      "AND('Org1MSP.member', OR('Org2MSP.peer', 'Org3MSP.admin'))");
    assert_round_trip("outof(2,\"A.member\",'B.client','C.orderer')",
                      "OutOf(2, 'A.member', 'B.client', 'C.orderer')");
    assert_round_trip("OutOf(1, 'A.member', 'B.member')", "OR('A.member', 'B.member')");
    assert_round_trip("OutOf(2, 'A.member', 'B.member')", "AND('A.member', 'B.member')");
    assert_round_trip("AND('A.member')", "OR('A.member')");
    assert_round_trip("OutOf(0, 'A.member', 'B.member')", "OutOf(0, 'A.member', 'B.member')");
    assert_round_trip("OutOf(3, 'A.member', 'B.member')", "OutOf(3, 'A.member', 'B.member')");
    assert_round_trip("and('x.member', 'x.member', or('y.peer', and('z.admin', 'z-1.a.b.client')))",
                      "AND('x.member', 'x.member', OR('y.peer', AND('z.admin', "
                      "'z-1.a.b.client')))");
    char *deep = nested(LC_POLICY_MAX_DEPTH);
    assert_round_trip(deep, deep);
    free(deep);
}
END_TEST

static void assert_print_rejects(Common__SignaturePolicyEnvelope *e, int code, const char *needle)
{
    char *out = (char *)0x1;
    struct lc_errbuf err = {{0}};
    int r = lc_policy_print(e, &out, &err);
    ck_assert_msg(r == code, "want %d got %d (%s)", code, r, err.msg);
    ck_assert_ptr_eq(out, (char *)0x1);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "'%s' not in '%s'", needle, err.msg);
    env_free(e);
}

START_TEST(print_root_signed_by_prints_as_or)
{
    Common__SignaturePolicyEnvelope *e = mk_env(mk_sb(0), 1, mk_role("A", ADMIN));
    char *out = NULL;
    ck_assert_int_eq(lc_policy_print(e, &out, NULL), 0);
    ck_assert_str_eq(out, "OR('A.admin')");
    free(out);
    env_free(e);
}
END_TEST

START_TEST(print_rejects_bad_version)
{
    Common__SignaturePolicyEnvelope *e = mk_env(mk_nof(1, 1, mk_sb(0)), 1, mk_role("A", MEMBER));
    e->version = 1;
    assert_print_rejects(e, LC_EINVALID, "version 1");
}
END_TEST

START_TEST(print_rejects_index_out_of_range)
{
    assert_print_rejects(mk_env(mk_nof(1, 2, mk_sb(0), mk_sb(1)), 1, mk_role("A", MEMBER)),
                         LC_EINVALID, "signed_by 1 out of range");
    assert_print_rejects(mk_env(mk_nof(1, 1, mk_sb(-1)), 1, mk_role("A", MEMBER)), LC_EINVALID,
                         "signed_by -1 out of range");
}
END_TEST

START_TEST(print_rejects_unknown_classification)
{
    Common__MSPPrincipal *p = mk_role("A", MEMBER);
    p->principal_classification = COMMON__MSPPRINCIPAL__CLASSIFICATION__IDENTITY;
    assert_print_rejects(mk_env(mk_nof(1, 1, mk_sb(0)), 1, p), LC_EINVALID, "classification 2");
    p = mk_role("A", MEMBER);
    p->principal_classification = (Common__MSPPrincipal__Classification)9;
    assert_print_rejects(mk_env(mk_nof(1, 1, mk_sb(0)), 1, p), LC_EINVALID, "classification 9");
}
END_TEST

START_TEST(print_rejects_unwritable_role_and_msp)
{
    assert_print_rejects(
        mk_env(mk_nof(1, 1, mk_sb(0)), 1, mk_role("A", (Common__MSPRole__MSPRoleType)7)),
        LC_EINVALID, "unknown role 7");
    assert_print_rejects(mk_env(mk_nof(1, 1, mk_sb(0)), 1, mk_role("A'B", MEMBER)), LC_EINVALID,
                         "MSP id");
    assert_print_rejects(mk_env(mk_nof(1, 1, mk_sb(0)), 1, mk_role("", MEMBER)), LC_EINVALID,
                         "empty MSP id");
    Common__MSPPrincipal *p = mk_role("A", MEMBER);
    p->principal.data[0] = 0xff; /* not a valid MSPRole any more */
    assert_print_rejects(mk_env(mk_nof(1, 1, mk_sb(0)), 1, p), LC_EDECODE, "MSPRole");
}
END_TEST

START_TEST(print_rejects_unwritable_n_out_of)
{
    assert_print_rejects(mk_env(mk_nof(1, 0), 1, mk_role("A", MEMBER)), LC_EINVALID,
                         "without rules");
    assert_print_rejects(mk_env(mk_nof(3, 1, mk_sb(0)), 1, mk_role("A", MEMBER)), LC_EINVALID,
                         "n = 3 out of range");
    assert_print_rejects(mk_env(mk_nof(-1, 1, mk_sb(0)), 1, mk_role("A", MEMBER)), LC_EINVALID,
                         "n = -1 out of range");
}
END_TEST

START_TEST(print_rejects_missing_rule_and_undecodable_bytes)
{
    assert_print_rejects(mk_env(NULL, 1, mk_role("A", MEMBER)), LC_EINVALID, "empty rule");
    Common__SignaturePolicy *r = mk_sb(0);
    r->type_case = COMMON__SIGNATURE_POLICY__TYPE__NOT_SET;
    assert_print_rejects(mk_env(mk_nof(1, 1, r), 1, mk_role("A", MEMBER)), LC_EINVALID,
                         "rule type 0");
    const uint8_t junk[] = {0x12, 0x05, 0x00};
    char *out = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_policy_print_bytes(junk, sizeof junk, &out, &err), LC_EDECODE);
    ck_assert_ptr_null(out);
}
END_TEST

static Common__SignaturePolicy *deep_rule(unsigned levels)
{
    Common__SignaturePolicy *r = mk_sb(0);
    for (unsigned i = 0; i < levels; i++)
        r = mk_nof(1, 1, r);
    return r;
}

START_TEST(check_rejects_over_deep_envelopes)
{
    Common__SignaturePolicyEnvelope *e =
        mk_env(deep_rule(LC_POLICY_MAX_DEPTH), 1, mk_role("A", MEMBER));
    ck_assert_int_eq(lc_policy_check(e, NULL), 0);
    env_free(e);
    assert_print_rejects(mk_env(deep_rule(LC_POLICY_MAX_DEPTH + 1), 1, mk_role("A", MEMBER)),
                         LC_EINVALID, "nested deeper");
}
END_TEST

START_TEST(print_rejects_over_long_text)
{
    /* 6000 principals with a 10-byte MSP id print to more than LC_POLICY_MAX_TEXT bytes. */
    size_t n = 6000;
    Common__SignaturePolicy *rule = mk_nof(1, 0);
    rule->n_out_of->rules = malloc(n * sizeof *rule->n_out_of->rules);
    rule->n_out_of->n_rules = n;
    for (size_t i = 0; i < n; i++)
        rule->n_out_of->rules[i] = mk_sb(0);
    assert_print_rejects(mk_env(rule, 1, mk_role("abcdefghij", MEMBER)), LC_ETOOBIG, "longer");
}
END_TEST

/* ---- evaluation over fake identities ---- */

struct fake_id {
    const char *msp;
    Common__MSPRole__MSPRoleType role; /* the identity's own role; MEMBER if none */
};

static int fake_calls;

/* MEMBER matches any identity of the MSP; other roles must match exactly. */
static int fake_satisfies(void *identity, const Common__MSPPrincipal *principal, void *ctx)
{
    const struct fake_id *id = identity;
    ck_assert_ptr_eq(ctx, &fake_calls);
    fake_calls++;
    if (principal->principal_classification != COMMON__MSPPRINCIPAL__CLASSIFICATION__ROLE)
        return -1;
    Common__MSPRole *mr =
        common__msprole__unpack(NULL, principal->principal.len, principal->principal.data);
    ck_assert_ptr_nonnull(mr);
    int ok =
        strcmp(mr->msp_identifier, id->msp) == 0 && (mr->role == MEMBER || mr->role == id->role);
    common__msprole__free_unpacked(mr, NULL);
    return ok ? 0 : -1;
}

static int eval_text(const char *text, struct fake_id *ids, size_t n)
{
    Common__SignaturePolicyEnvelope *e = NULL;
    ck_assert_int_eq(lc_policy_parse_envelope(text, &e, NULL), 0);
    void *ptrs[16];
    ck_assert_uint_le(n, 16);
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &ids[i];
    struct lc_errbuf err;
    int r = lc_policy_eval(e, ptrs, n, fake_satisfies, &fake_calls, &err);
    if (r == LC_EPOLICY)
        ck_assert_ptr_nonnull(strstr(err.msg, "not satisfied"));
    env_free(e);
    return r;
}

static struct fake_id A = {"A", MEMBER}, A2 = {"A", PEER}, Aadm = {"A", ADMIN}, B = {"B", MEMBER};

START_TEST(eval_basic_gates)
{
    ck_assert_int_eq(eval_text("OR('A.member')", (struct fake_id[]){A}, 1), 0);
    ck_assert_int_eq(eval_text("OR('A.member')", (struct fake_id[]){B}, 1), LC_EPOLICY);
    ck_assert_int_eq(eval_text("OR('A.member')", NULL, 0), LC_EPOLICY);
    ck_assert_int_eq(eval_text("AND('A.member', 'B.member')", (struct fake_id[]){B, A}, 2), 0);
    ck_assert_int_eq(eval_text("AND('A.member', 'B.member')", (struct fake_id[]){A, A2}, 2),
                     LC_EPOLICY);
    ck_assert_int_eq(eval_text("OR('A.admin', 'B.member')", (struct fake_id[]){A, A2}, 2),
                     LC_EPOLICY);
    ck_assert_int_eq(eval_text("OR('A.admin', 'B.member')", (struct fake_id[]){A, Aadm}, 2), 0);
}
END_TEST

START_TEST(eval_each_identity_counts_once)
{
    /* AND of the same principal twice needs two distinct identities. */
    ck_assert_int_eq(eval_text("AND('A.member', 'A.member')", (struct fake_id[]){A}, 1),
                     LC_EPOLICY);
    ck_assert_int_eq(eval_text("AND('A.member', 'A.member')", (struct fake_id[]){A, A2}, 2), 0);
    /* OutOf(2, ...) with a duplicated principal. */
    ck_assert_int_eq(
        eval_text("OutOf(2, 'A.member', 'A.member', 'B.member')", (struct fake_id[]){A}, 1),
        LC_EPOLICY);
    ck_assert_int_eq(
        eval_text("OutOf(2, 'A.member', 'A.member', 'B.member')", (struct fake_id[]){A, A2}, 2), 0);
    ck_assert_int_eq(
        eval_text("OutOf(2, 'A.member', 'A.member', 'B.member')", (struct fake_id[]){B, A}, 2), 0);
    ck_assert_int_eq(
        eval_text("OutOf(3, 'A.member', 'A.member', 'B.member')", (struct fake_id[]){B, A}, 2),
        LC_EPOLICY);
}
END_TEST

START_TEST(eval_is_greedy_without_backtracking)
{
    /* 'A.member' claims the first A identity, the admin; 'A.admin' then finds none left,
     * although the other assignment would pass. */
    ck_assert_int_eq(eval_text("AND('A.member', 'A.admin')", (struct fake_id[]){Aadm, A}, 2),
                     LC_EPOLICY);
    ck_assert_int_eq(eval_text("AND('A.member', 'A.admin')", (struct fake_id[]){A, Aadm}, 2), 0);
}
END_TEST

START_TEST(eval_failed_rule_claims_are_discarded)
{
    /* The AND claims A on its copy, fails, and the claim is dropped: 'A.member' gets A. */
    ck_assert_int_eq(
        eval_text("OR(AND('A.member', 'B.member'), 'A.member')", (struct fake_id[]){A}, 1), 0);
    /* Inside a passing NOutOf every passing rule keeps its claim, even beyond n: the OR
     * takes both A identities and the last 'A.member' finds none. */
    ck_assert_int_eq(
        eval_text("AND(OR('A.member', 'A.member'), 'A.member')", (struct fake_id[]){A, A2}, 2),
        LC_EPOLICY);
    ck_assert_int_eq(eval_text("AND(OR('A.member', 'A.member'), 'A.member')",
                               (struct fake_id[]){A, A2, Aadm}, 3),
                     0);
    /* A failing NOutOf's passing rules still do not leak claims to its parent. */
    ck_assert_int_eq(
        eval_text("OR(AND('A.member', 'A.admin'), 'A.member')", (struct fake_id[]){A}, 1), 0);
}
END_TEST

START_TEST(eval_k_edges)
{
    ck_assert_int_eq(eval_text("OutOf(0, 'A.member')", NULL, 0), 0);
    ck_assert_int_eq(eval_text("OutOf(2, 'A.member')", (struct fake_id[]){A, A2}, 2), LC_EPOLICY);
}
END_TEST

START_TEST(eval_all_rules_run_and_satisfies_gets_ctx)
{
    fake_calls = 0;
    ck_assert_int_eq(eval_text("OR('A.member', 'B.member')", (struct fake_id[]){A, B}, 2), 0);
    /* No short circuit: 'A.member' claims A (1 call), then 'B.member' still runs, skips the
     * claimed A and matches B (1 call). */
    ck_assert_int_eq(fake_calls, 2);
}
END_TEST

START_TEST(eval_rejects_unusable_envelopes)
{
    void *ids[1] = {&A};
    struct lc_errbuf err;
    Common__SignaturePolicyEnvelope *e = mk_env(mk_nof(1, 1, mk_sb(1)), 1, mk_role("A", MEMBER));
    ck_assert_int_eq(lc_policy_eval(e, ids, 1, fake_satisfies, &fake_calls, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "out of range"));
    env_free(e);
    e = mk_env(mk_nof(1, 1, mk_sb(0)), 1, mk_role("A", MEMBER));
    e->version = 2;
    ck_assert_int_eq(lc_policy_eval(e, ids, 1, fake_satisfies, &fake_calls, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "version 2"));
    env_free(e);
    e = mk_env(NULL, 0);
    ck_assert_int_eq(lc_policy_eval(e, ids, 1, fake_satisfies, &fake_calls, &err), LC_EINVALID);
    env_free(e);
    e = mk_env(deep_rule(LC_POLICY_MAX_DEPTH + 1), 1, mk_role("A", MEMBER));
    ck_assert_int_eq(lc_policy_eval(e, ids, 1, fake_satisfies, &fake_calls, &err), LC_EINVALID);
    env_free(e);
    ck_assert_int_eq(lc_policy_eval(NULL, ids, 1, fake_satisfies, &fake_calls, &err), LC_EINVALID);
    /* A decoded envelope evaluates too, and a root signed_by works. */
    e = mk_env(mk_sb(0), 1, mk_role("A", MEMBER));
    ck_assert_int_eq(lc_policy_eval(e, ids, 1, fake_satisfies, &fake_calls, &err), 0);
    env_free(e);
    e = mk_env(deep_rule(LC_POLICY_MAX_DEPTH), 1, mk_role("A", MEMBER));
    ck_assert_int_eq(lc_policy_eval(e, ids, 1, fake_satisfies, &fake_calls, &err), 0);
    env_free(e);
}
END_TEST

/* ---- identity sets ---- */

/* Serialized fake identity: "msp/key/role" where role is 'm' or 'a'; anything else fails to
 * deserialize. A signature is good when it equals "sig:" + key. */
struct fid {
    struct fake_id id;
    char msp[16];
    char key[64];
};

struct fctx {
    int live;
    int verifies;
    int fail_alloc_at; /* deserialize call number that returns -ENOMEM (0 = never) */
    int deserializes;
};

static int f_deserialize(void *ctx, const uint8_t *bytes, size_t len, void **ret)
{
    struct fctx *c = ctx;
    if (++c->deserializes == c->fail_alloc_at)
        return -ENOMEM;
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return LC_EDECODE;
    memcpy(buf, bytes, len);
    buf[len] = '\0';
    char *s1 = strchr(buf, '/');
    char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s2 || (s2[1] != 'm' && s2[1] != 'a'))
        return LC_EDECODE;
    struct fid *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    snprintf(f->msp, sizeof f->msp, "%.*s", (int)(s1 - buf), buf);
    snprintf(f->key, sizeof f->key, "%s", buf);
    f->id.msp = f->msp;
    f->id.role = s2[1] == 'a' ? ADMIN : MEMBER;
    c->live++;
    *ret = f;
    return 0;
}

static const char *f_key(void *ctx, void *identity)
{
    return ((struct fid *)identity)->key;
}

static int f_verify(void *ctx, void *identity, const uint8_t *data, size_t data_len,
                    const uint8_t *sig, size_t sig_len)
{
    struct fctx *c = ctx;
    c->verifies++;
    char want[64];
    int n = snprintf(want, sizeof want, "sig:%s", ((struct fid *)identity)->key);
    return (size_t)n == sig_len && memcmp(want, sig, sig_len) == 0 ? 0 : LC_EBADSIG;
}

static int f_satisfies(void *identity, const Common__MSPPrincipal *principal, void *ctx)
{
    return fake_satisfies(&((struct fid *)identity)->id, principal, &fake_calls);
}

static void f_release(void *ctx, void *identity)
{
    ((struct fctx *)ctx)->live--;
    free(identity);
}

static const struct lc_policy_identity_ops fops = {
    .deserialize = f_deserialize,
    .key = f_key,
    .verify = f_verify,
    .satisfies = f_satisfies,
    .release = f_release,
};

static struct lc_signed_data sd(const char *identity, const char *sig)
{
    return (struct lc_signed_data){.data = (const uint8_t *)"payload",
                                   .data_len = 7,
                                   .identity = (const uint8_t *)identity,
                                   .identity_len = strlen(identity),
                                   .signature = (const uint8_t *)sig,
                                   .signature_len = strlen(sig)};
}

START_TEST(idset_drops_undeserializable_and_bad_signatures)
{
    struct fctx c = {0};
    struct lc_signed_data set[] = {sd("garbage", "x"), sd("A/1/m", "sig:A/1/m"),
                                   sd("B/1/m", "sig:wrong"), sd("B/2/m", "sig:B/2/m")};
    struct lc_policy_idset *s = NULL;
    ck_assert_int_eq(lc_policy_idset_new(set, 4, &fops, &c, &s), 0);
    ck_assert_uint_eq(lc_policy_idset_count(s), 2);
    ck_assert_int_eq(c.live, 2);
    Common__SignaturePolicyEnvelope *e = NULL;
    ck_assert_int_eq(lc_policy_parse_envelope("AND('A.member', 'B.member')", &e, NULL), 0);
    ck_assert_int_eq(lc_policy_idset_eval(s, e, NULL), 0);
    env_free(e);
    lc_policy_idset_free(s);
    ck_assert_int_eq(c.live, 0);
    lc_policy_idset_free(NULL);
}
END_TEST

START_TEST(idset_drops_repeats_before_verifying)
{
    struct fctx c = {0};
    struct lc_signed_data set[] = {sd("A/1/m", "sig:A/1/m"), sd("A/1/m", "sig:A/1/m"),
                                   sd("A/1/m", "sig:A/1/m")};
    struct lc_policy_idset *s = NULL;
    ck_assert_int_eq(lc_policy_idset_new(set, 3, &fops, &c, &s), 0);
    ck_assert_uint_eq(lc_policy_idset_count(s), 1);
    ck_assert_int_eq(c.verifies, 1);
    ck_assert_int_eq(c.live, 1);
    lc_policy_idset_free(s);
    ck_assert_int_eq(c.live, 0);
    /* The same identity signing twice cannot satisfy AND of one principal twice. */
    Common__SignaturePolicyEnvelope *e = NULL;
    ck_assert_int_eq(lc_policy_parse_envelope("AND('A.member', 'A.member')", &e, NULL), 0);
    ck_assert_int_eq(lc_policy_eval_signed(e, set, 3, &fops, &c, NULL), LC_EPOLICY);
    struct lc_signed_data two[] = {sd("A/1/m", "sig:A/1/m"), sd("A/2/m", "sig:A/2/m")};
    ck_assert_int_eq(lc_policy_eval_signed(e, two, 2, &fops, &c, NULL), 0);
    env_free(e);
    ck_assert_int_eq(c.live, 0);
}
END_TEST

START_TEST(idset_repeat_after_bad_signature_is_kept)
{
    /* A key is remembered only once its signature verified, so a good later copy counts. */
    struct fctx c = {0};
    struct lc_signed_data set[] = {sd("A/1/a", "bad"), sd("A/1/a", "sig:A/1/a")};
    Common__SignaturePolicyEnvelope *e = NULL;
    ck_assert_int_eq(lc_policy_parse_envelope("OR('A.admin')", &e, NULL), 0);
    ck_assert_int_eq(lc_policy_eval_signed(e, set, 2, &fops, &c, NULL), 0);
    ck_assert_int_eq(c.verifies, 2);
    ck_assert_int_eq(lc_policy_eval_signed(e, set, 1, &fops, &c, NULL), LC_EPOLICY);
    ck_assert_int_eq(lc_policy_eval_signed(e, NULL, 0, &fops, &c, NULL), LC_EPOLICY);
    env_free(e);
    ck_assert_int_eq(c.live, 0);
}
END_TEST

START_TEST(idset_out_of_memory_aborts_and_releases)
{
    struct fctx c = {.fail_alloc_at = 2};
    struct lc_signed_data set[] = {sd("A/1/m", "sig:A/1/m"), sd("A/2/m", "sig:A/2/m")};
    struct lc_policy_idset *s = (struct lc_policy_idset *)0x1;
    ck_assert_int_eq(lc_policy_idset_new(set, 2, &fops, &c, &s), -ENOMEM);
    ck_assert_ptr_eq(s, (struct lc_policy_idset *)0x1);
    ck_assert_int_eq(c.live, 0);
}
END_TEST

/* ---- implicit meta ---- */

START_TEST(implicit_decode)
{
    /* "ANY Readers" is 0a07 "Readers": the ANY rule is omitted. */
    const uint8_t any[] = {0x0a, 0x07, 'R', 'e', 'a', 'd', 'e', 'r', 's'};
    Common__ImplicitMetaPolicy *imp = NULL;
    ck_assert_int_eq(lc_policy_implicit_decode(any, sizeof any, &imp, NULL), 0);
    ck_assert_str_eq(imp->sub_policy, "Readers");
    ck_assert_int_eq(imp->rule, COMMON__IMPLICIT_META_POLICY__RULE__ANY);
    common__implicit_meta_policy__free_unpacked(imp, NULL);

    struct lc_errbuf err;
    imp = NULL;
    const uint8_t bad_rule[] = {0x0a, 0x01, 'X', 0x10, 0x07};
    ck_assert_int_eq(lc_policy_implicit_decode(bad_rule, sizeof bad_rule, &imp, &err), LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "rule 7"));
    const uint8_t empty_sub[] = {0x10, 0x02};
    ck_assert_int_eq(lc_policy_implicit_decode(empty_sub, sizeof empty_sub, &imp, &err),
                     LC_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty sub_policy"));
    const uint8_t junk[] = {0x0a, 0x09, 'X'};
    ck_assert_int_eq(lc_policy_implicit_decode(junk, sizeof junk, &imp, &err), LC_EDECODE);
    ck_assert_ptr_null(imp);
}
END_TEST

START_TEST(implicit_thresholds)
{
    const Common__ImplicitMetaPolicy__Rule any = COMMON__IMPLICIT_META_POLICY__RULE__ANY,
                                           all = COMMON__IMPLICIT_META_POLICY__RULE__ALL,
                                           maj = COMMON__IMPLICIT_META_POLICY__RULE__MAJORITY;
    ck_assert_uint_eq(lc_policy_implicit_threshold(any, 0), 0);
    ck_assert_uint_eq(lc_policy_implicit_threshold(all, 0), 0);
    ck_assert_uint_eq(lc_policy_implicit_threshold(maj, 0), 0);
    ck_assert_uint_eq(lc_policy_implicit_threshold(any, 3), 1);
    ck_assert_uint_eq(lc_policy_implicit_threshold(all, 3), 3);
    ck_assert_uint_eq(lc_policy_implicit_threshold(maj, 1), 1);
    ck_assert_uint_eq(lc_policy_implicit_threshold(maj, 2), 2);
    ck_assert_uint_eq(lc_policy_implicit_threshold(maj, 3), 2);
    ck_assert_uint_eq(lc_policy_implicit_threshold(maj, 4), 3);
    ck_assert_uint_eq(lc_policy_implicit_threshold((Common__ImplicitMetaPolicy__Rule)5, 2), 3);
}
END_TEST

struct children {
    const int *results;
    int calls;
};

static int child(void *ctx, size_t i)
{
    struct children *c = ctx;
    c->calls++;
    return c->results[i];
}

static int imeta(Common__ImplicitMetaPolicy__Rule rule, const int *results, size_t n, int *calls,
                 struct lc_errbuf *err)
{
    Common__ImplicitMetaPolicy imp = COMMON__IMPLICIT_META_POLICY__INIT;
    imp.rule = rule;
    imp.sub_policy = "Admins";
    struct children c = {.results = results};
    int r = lc_policy_implicit_eval(&imp, n, child, &c, err);
    if (calls)
        *calls = c.calls;
    return r;
}

START_TEST(implicit_eval_outcomes)
{
    const Common__ImplicitMetaPolicy__Rule any = COMMON__IMPLICIT_META_POLICY__RULE__ANY,
                                           all = COMMON__IMPLICIT_META_POLICY__RULE__ALL,
                                           maj = COMMON__IMPLICIT_META_POLICY__RULE__MAJORITY;
    const int none[] = {LC_EPOLICY, LC_EPOLICY, LC_EPOLICY};
    const int one[] = {LC_EPOLICY, 0, LC_ENOTFOUND};
    const int two[] = {0, LC_EPOLICY, 0};
    const int three[] = {0, 0, 0};
    struct lc_errbuf err;
    int calls;
    ck_assert_int_eq(imeta(any, none, 3, NULL, &err), LC_EPOLICY);
    ck_assert_int_eq(imeta(any, one, 3, &calls, &err), 0);
    ck_assert_int_eq(calls, 2); /* stops once the threshold is met */
    ck_assert_int_eq(imeta(maj, one, 3, NULL, &err), LC_EPOLICY);
    ck_assert_str_eq(err.msg,
                     "implicit meta policy MAJORITY Admins: 1 of 3 sub-policies satisfied, 2 "
                     "needed");
    ck_assert_int_eq(imeta(maj, two, 3, NULL, &err), 0);
    ck_assert_int_eq(imeta(all, two, 3, NULL, &err), LC_EPOLICY);
    ck_assert_int_eq(imeta(all, three, 3, NULL, &err), 0);
    /* No children: always passes. */
    ck_assert_int_eq(imeta(all, NULL, 0, NULL, &err), 0);
    ck_assert_int_eq(imeta(any, NULL, 0, NULL, &err), 0);
    const int oom[] = {LC_EPOLICY, -ENOMEM, 0};
    ck_assert_int_eq(imeta(any, oom, 3, NULL, &err), -ENOMEM);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, parse_table_matches_hand_built_envelopes);
    tcase_add_test(tc, parse_writes_go_canonical_zero_values);
    tcase_add_test(tc, syntax_unbalanced_parentheses);
    tcase_add_test(tc, syntax_unknown_function);
    tcase_add_test(tc, syntax_bad_principal_or_role);
    tcase_add_test(tc, syntax_empty_arguments);
    tcase_add_test(tc, syntax_k_out_of_range);
    tcase_add_test(tc, syntax_trailing_garbage);
    tcase_add_test(tc, syntax_nesting_too_deep);
    tcase_add_test(tc, syntax_text_too_long);
    tcase_add_test(tc, syntax_error_without_message_pointer);
    suite_add_tcase(s, tc);

    tc = tcase_create("print");
    tcase_add_test(tc, print_round_trips);
    tcase_add_test(tc, print_root_signed_by_prints_as_or);
    tcase_add_test(tc, print_rejects_bad_version);
    tcase_add_test(tc, print_rejects_index_out_of_range);
    tcase_add_test(tc, print_rejects_unknown_classification);
    tcase_add_test(tc, print_rejects_unwritable_role_and_msp);
    tcase_add_test(tc, print_rejects_unwritable_n_out_of);
    tcase_add_test(tc, print_rejects_missing_rule_and_undecodable_bytes);
    tcase_add_test(tc, check_rejects_over_deep_envelopes);
    tcase_add_test(tc, print_rejects_over_long_text);
    suite_add_tcase(s, tc);

    tc = tcase_create("eval");
    tcase_add_test(tc, eval_basic_gates);
    tcase_add_test(tc, eval_each_identity_counts_once);
    tcase_add_test(tc, eval_is_greedy_without_backtracking);
    tcase_add_test(tc, eval_failed_rule_claims_are_discarded);
    tcase_add_test(tc, eval_k_edges);
    tcase_add_test(tc, eval_all_rules_run_and_satisfies_gets_ctx);
    tcase_add_test(tc, eval_rejects_unusable_envelopes);
    tcase_add_test(tc, idset_drops_undeserializable_and_bad_signatures);
    tcase_add_test(tc, idset_drops_repeats_before_verifying);
    tcase_add_test(tc, idset_repeat_after_bad_signature_is_kept);
    tcase_add_test(tc, idset_out_of_memory_aborts_and_releases);
    suite_add_tcase(s, tc);

    tc = tcase_create("implicit");
    tcase_add_test(tc, implicit_decode);
    tcase_add_test(tc, implicit_thresholds);
    tcase_add_test(tc, implicit_eval_outcomes);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

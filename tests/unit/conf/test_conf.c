/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for settings: table checks, every value type, precedence, rejections, help output. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/conf.h"
#include "libcommon/log.h"

static const char *const consensus_words[] = {"solo", "kafka", NULL};

static const struct lc_conf_setting settings[] = {
    {.name = "listen",
     .type = LC_CONF_ADDR,
     .def = "0.0.0.0:7051",
     .help = "Address the gRPC server listens on."},
    {.name = "workers",
     .type = LC_CONF_INT,
     .def = "2",
     .min = 1,
     .max = 64,
     .help = "gRPC worker threads."},
    {.name = "tls", .type = LC_CONF_BOOL, .def = "false", .help = "Serve TLS."},
    {.name = "batch-timeout",
     .type = LC_CONF_DURATION,
     .def = "2s",
     .min = 1,
     .max = 3600000,
     .help = "Cut a batch after this long."},
    {.name = "max-msg-size",
     .type = LC_CONF_SIZE,
     .def = "100MB",
     .min = 1024,
     .max = 1073741824,
     .help = "Largest gRPC message | in or out."},
    {.name = "consensus",
     .type = LC_CONF_ENUM,
     .def = "solo",
     .choices = consensus_words,
     .help = "Consenter type."},
    {.name = "data-dir", .type = LC_CONF_PATH, .required = true, .help = "Where blocks go."},
    {.name = "msp-id",
     .env = "CORE_PEER_LOCALMSPID",
     .type = LC_CONF_STRING,
     .help = "This node's MSP ID."},
};

static const struct lc_conf_def def = {
    .service = "orderer",
    .program = "weft-orderer",
    .summary = "Orders transactions into blocks.",
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
};

static char *const no_env[] = {NULL};
static char *const base_env[] = {"WEFT_ORDERER_DATA_DIR=/var/weft", NULL};

static struct lc_conf *new_conf(void)
{
    struct lc_conf *c = NULL;
    struct lc_errbuf err = {{0}};
    int r = lc_conf_new(&def, &c, &err);
    ck_assert_msg(r == 0, "lc_conf_new: %s", err.msg);
    return c;
}

#define ARGV(...) ((char *const[]){"weft-orderer", __VA_ARGS__})
#define ARGC(...) ((int)(sizeof((char *[]){"weft-orderer", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(c, env, err, ...)                                                                    \
    lc_conf_parse((c), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (env), (err))

/* Parses args (with the required data dir in env) and expects rejection `code` whose message
 * contains `want`. */
static void expect_reject(int argc, char *const argv[], char *const env[], int code,
                          const char *want)
{
    struct lc_conf *c = new_conf();
    struct lc_errbuf err = {{0}};
    int r = lc_conf_parse(c, argc, argv, env, &err);
    ck_assert_msg(r == code, "got %d (%s), want %d", r, err.msg, code);
    ck_assert_msg(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
    lc_conf_free(c);
}
#define REJECT(env, code, want, ...)                                                               \
    expect_reject(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (env), (code), (want))

START_TEST(defaults_apply_when_nothing_given)
{
    struct lc_conf *c = new_conf();
    struct lc_errbuf err;
    char *argv[] = {"weft-orderer", NULL};
    ck_assert_int_eq(lc_conf_parse(c, 1, argv, base_env, &err), 0);
    ck_assert_str_eq(lc_conf_addr_host(c, "listen"), "0.0.0.0");
    ck_assert_uint_eq(lc_conf_addr_port(c, "listen"), 7051);
    ck_assert_int_eq(lc_conf_int(c, "workers"), 2);
    ck_assert(!lc_conf_bool(c, "tls"));
    ck_assert_int_eq(lc_conf_duration_ms(c, "batch-timeout"), 2000);
    ck_assert_uint_eq(lc_conf_size(c, "max-msg-size"), 100u << 20);
    ck_assert_str_eq(lc_conf_enum(c, "consensus"), "solo");
    ck_assert_int_eq(lc_conf_enum_index(c, "consensus"), 0);
    ck_assert_str_eq(lc_conf_str(c, "data-dir"), "/var/weft");
    ck_assert_int_eq(lc_conf_source(c, "data-dir"), LC_CONF_ENV);
    ck_assert_int_eq(lc_conf_source(c, "workers"), LC_CONF_DEFAULT);
    ck_assert(!lc_conf_is_set(c, "msp-id"));
    ck_assert_ptr_null(lc_conf_str(c, "msp-id"));
    ck_assert_int_eq(lc_conf_help_requested(c), LC_CONF_HELP_NONE);
    ck_assert_uint_eq(lc_conf_nargs(c), 0);
    lc_conf_free(c);
}
END_TEST

START_TEST(both_flag_forms_and_every_type)
{
    struct lc_conf *c = new_conf();
    struct lc_errbuf err;
    int r = PARSE(c, no_env, &err, "--listen=[::1]:0", "--workers", "8", "--tls",
                  "--batch-timeout=1m30s", "--max-msg-size", "512KiB", "--consensus=kafka",
                  "--data-dir", "/tmp/x", "--msp-id=Org1MSP");
    ck_assert_msg(r == 0, "%s", err.msg);
    ck_assert_str_eq(lc_conf_addr_host(c, "listen"), "::1");
    ck_assert_uint_eq(lc_conf_addr_port(c, "listen"), 0);
    ck_assert_int_eq(lc_conf_int(c, "workers"), 8);
    ck_assert(lc_conf_bool(c, "tls"));
    ck_assert_int_eq(lc_conf_duration_ms(c, "batch-timeout"), 90000);
    ck_assert_uint_eq(lc_conf_size(c, "max-msg-size"), 512u * 1024);
    ck_assert_str_eq(lc_conf_text(c, "max-msg-size"), "512KiB");
    ck_assert_int_eq(lc_conf_enum_index(c, "consensus"), 1);
    ck_assert_str_eq(lc_conf_str(c, "data-dir"), "/tmp/x");
    ck_assert_str_eq(lc_conf_str(c, "msp-id"), "Org1MSP");
    ck_assert_int_eq(lc_conf_source(c, "workers"), LC_CONF_FLAG);
    lc_conf_free(c);
}
END_TEST

START_TEST(value_spellings)
{
    struct lc_conf *c = new_conf();
    struct lc_errbuf err;
    ck_assert_int_eq(PARSE(c, base_env, &err, "--tls=off", "--batch-timeout=500ms",
                           "--max-msg-size=10 MB", "--listen=:7050"),
                     0);
    ck_assert(!lc_conf_bool(c, "tls"));
    ck_assert_int_eq(lc_conf_duration_ms(c, "batch-timeout"), 500);
    ck_assert_uint_eq(lc_conf_size(c, "max-msg-size"), 10u << 20);
    ck_assert_str_eq(lc_conf_addr_host(c, "listen"), "");
    ck_assert_uint_eq(lc_conf_addr_port(c, "listen"), 7050);
    ck_assert_int_eq(PARSE(c, base_env, &err, "--tls=YES", "--batch-timeout=1h",
                           "--max-msg-size=2048", "--listen=peer0.org1.example.com:7051"),
                     0);
    ck_assert(lc_conf_bool(c, "tls"));
    ck_assert_int_eq(lc_conf_duration_ms(c, "batch-timeout"), 3600000);
    ck_assert_uint_eq(lc_conf_size(c, "max-msg-size"), 2048);
    ck_assert_str_eq(lc_conf_addr_host(c, "listen"), "peer0.org1.example.com");
    ck_assert_int_eq(PARSE(c, base_env, &err, "--max-msg-size=1gb", "--workers=+3"), 0);
    ck_assert_uint_eq(lc_conf_size(c, "max-msg-size"), 1u << 30);
    ck_assert_int_eq(lc_conf_int(c, "workers"), 3);
    lc_conf_free(c);
}
END_TEST

START_TEST(flag_beats_env_beats_default)
{
    struct lc_conf *c = new_conf();
    struct lc_errbuf err;
    char *const env[] = {"WEFT_ORDERER_WORKERS=4", "WEFT_ORDERER_DATA_DIR=/env/dir",
                         "CORE_PEER_LOCALMSPID=EnvMSP", "OTHER=1", NULL};
    ck_assert_int_eq(PARSE(c, env, &err, "--workers=9"), 0);
    ck_assert_int_eq(lc_conf_int(c, "workers"), 9);
    ck_assert_int_eq(lc_conf_source(c, "workers"), LC_CONF_FLAG);
    ck_assert_str_eq(lc_conf_str(c, "data-dir"), "/env/dir");
    ck_assert_str_eq(lc_conf_str(c, "msp-id"), "EnvMSP");
    ck_assert_int_eq(lc_conf_duration_ms(c, "batch-timeout"), 2000);

    char *argv[] = {"weft-orderer", NULL};
    ck_assert_int_eq(lc_conf_parse(c, 1, argv, env, &err), 0);
    ck_assert_int_eq(lc_conf_int(c, "workers"), 4);
    ck_assert_int_eq(lc_conf_source(c, "workers"), LC_CONF_ENV);
    lc_conf_free(c);
}
END_TEST

START_TEST(later_flag_wins_and_parse_restarts_from_defaults)
{
    struct lc_conf *c = new_conf();
    struct lc_errbuf err;
    ck_assert_int_eq(PARSE(c, base_env, &err, "--workers=3", "--workers=5", "--msp-id=A"), 0);
    ck_assert_int_eq(lc_conf_int(c, "workers"), 5);
    char *argv[] = {"weft-orderer", NULL};
    ck_assert_int_eq(lc_conf_parse(c, 1, argv, base_env, &err), 0);
    ck_assert_int_eq(lc_conf_int(c, "workers"), 2);
    ck_assert(!lc_conf_is_set(c, "msp-id"));
    lc_conf_free(c);
}
END_TEST

START_TEST(empty_env_counts_as_unset)
{
    char *const env[] = {"WEFT_ORDERER_WORKERS=", "WEFT_ORDERER_DATA_DIR=/d", NULL};
    struct lc_conf *c = new_conf();
    struct lc_errbuf err;
    char *argv[] = {"weft-orderer", NULL};
    ck_assert_int_eq(lc_conf_parse(c, 1, argv, env, &err), 0);
    ck_assert_int_eq(lc_conf_int(c, "workers"), 2);
    lc_conf_free(c);
}
END_TEST

START_TEST(flag_hides_bad_env_for_same_setting)
{
    char *const env[] = {"WEFT_ORDERER_WORKERS=many", "WEFT_ORDERER_DATA_DIR=/d", NULL};
    struct lc_conf *c = new_conf();
    struct lc_errbuf err;
    ck_assert_int_eq(PARSE(c, env, &err, "--workers=7"), 0);
    ck_assert_int_eq(lc_conf_int(c, "workers"), 7);
    lc_conf_free(c);
}
END_TEST

START_TEST(failed_parse_keeps_previous_values)
{
    struct lc_conf *c = new_conf();
    struct lc_errbuf err;
    ck_assert_int_eq(PARSE(c, base_env, &err, "--workers=6"), 0);
    ck_assert_int_eq(PARSE(c, base_env, &err, "--workers=7", "--tls=maybe"), LC_ESYNTAX);
    ck_assert_int_eq(lc_conf_int(c, "workers"), 6);
    lc_conf_free(c);
}
END_TEST

/* ---- rejections: each row is its own test run (tcase_add_loop_test) ---- */

static const struct {
    const char *arg, *arg2; /* arg2: a separate value, or NULL */
    int code;
    const char *want;
} flag_rejects[] = {
    {"--max-msg-size=ten", NULL, LC_ESYNTAX,
     "--max-msg-size: 'ten' is not a size (expected e.g. 10MB)"},
    {"--max-msg-size=10XB", NULL, LC_ESYNTAX, "--max-msg-size: '10XB' is not a size"},
    {"--max-msg-size=-5MB", NULL, LC_ESYNTAX, "'-5MB' is not a size"},
    {"--max-msg-size=99999999999TB", NULL, LC_EINVALID, "too large a size"},
    {"--max-msg-size=2GB", NULL, LC_EINVALID, "--max-msg-size: '2GB' is out of range (1KiB..1GiB)"},
    {"--max-msg-size=1023", NULL, LC_EINVALID, "'1023' is out of range (1KiB..1GiB)"},
    {"--workers=ten", NULL, LC_ESYNTAX, "--workers: 'ten' is not an integer"},
    {"--workers", "4x", LC_ESYNTAX, "--workers: '4x' is not an integer"},
    {"--workers=", NULL, LC_ESYNTAX, "--workers: '' is not an integer"},
    {"--workers=99999999999999999999", NULL, LC_EINVALID, "does not fit in 64 bits"},
    {"--workers=0", NULL, LC_EINVALID, "--workers: '0' is out of range (1..64)"},
    {"--workers=65", NULL, LC_EINVALID, "--workers: '65' is out of range (1..64)"},
    {"--workers=-1", NULL, LC_EINVALID, "'-1' is out of range (1..64)"},
    {"--tls=maybe", NULL, LC_ESYNTAX, "--tls: 'maybe' is not a boolean (expected true or false)"},
    {"--batch-timeout=2", NULL, LC_ESYNTAX,
     "--batch-timeout: '2' is not a duration (expected e.g. 2s, 500ms, 1m)"},
    {"--batch-timeout=2sec", NULL, LC_ESYNTAX, "'2sec' is not a duration"},
    {"--batch-timeout=1.5s", NULL, LC_ESYNTAX, "'1.5s' is not a duration"},
    {"--batch-timeout=", NULL, LC_ESYNTAX, "'' is not a duration"},
    {"--batch-timeout=5us", NULL, LC_ESYNTAX, "'5us' is not a duration"},
    {"--batch-timeout=9999999999999999h", NULL, LC_EINVALID, "too long a duration"},
    {"--batch-timeout=0", NULL, LC_EINVALID, "--batch-timeout: '0' is out of range (1ms..1h)"},
    {"--batch-timeout=61m", NULL, LC_EINVALID, "'61m' is out of range (1ms..1h)"},
    {"--consensus=raft", NULL, LC_EINVALID, "--consensus: 'raft' is not one of: solo, kafka"},
    {"--consensus=Solo", NULL, LC_EINVALID, "'Solo' is not one of"},
    {"--listen=localhost", NULL, LC_ESYNTAX,
     "--listen: 'localhost' is not a host:port address (expected e.g. 127.0.0.1:7051)"},
    {"--listen=localhost:", NULL, LC_ESYNTAX, "is not a host:port address"},
    {"--listen=localhost:http", NULL, LC_ESYNTAX, "is not a host:port address"},
    {"--listen=::1:7051", NULL, LC_ESYNTAX, "is not a host:port address"},
    {"--listen=[]:7051", NULL, LC_ESYNTAX, "is not a host:port address"},
    {"--listen=[::1]7051", NULL, LC_ESYNTAX, "is not a host:port address"},
    {"--listen=bad host:1", NULL, LC_ESYNTAX, "is not a host:port address"},
    {"--listen=h:123456", NULL, LC_ESYNTAX, "is not a host:port address"},
    {"--listen=h:70000", NULL, LC_EINVALID, "--listen: port 70000 in 'h:70000' is over 65535"},
    {"--data-dir=", NULL, LC_EINVALID, "--data-dir: empty path"},
    {"--lisen=:1", NULL, LC_ESYNTAX, "unknown flag '--lisen'"},
    {"--nope", NULL, LC_ESYNTAX, "unknown flag '--nope'"},
    {"-x", NULL, LC_ESYNTAX, "unknown flag '-x'"},
    {"--workers", NULL, LC_ESYNTAX, "--workers: missing value"},
    {"extra", NULL, LC_ESYNTAX, "unexpected argument 'extra'"},
    {"--", "--tls", LC_ESYNTAX, "unexpected argument '--tls'"},
    {"--log-format=xml", NULL, LC_EINVALID, "--log-format: 'xml' is not one of: text, json"},
};

START_TEST(reject_flag)
{
    char *argv[] = {"weft-orderer", (char *)flag_rejects[_i].arg, (char *)flag_rejects[_i].arg2,
                    NULL};
    expect_reject(flag_rejects[_i].arg2 ? 3 : 2, argv, base_env, flag_rejects[_i].code,
                  flag_rejects[_i].want);
}
END_TEST

START_TEST(reject_overlong_path)
{
    char *big = malloc(5000 + 12);
    memcpy(big, "--data-dir=", 11);
    memset(big + 11, 'a', 5000);
    big[5011] = '\0';
    REJECT(base_env, LC_ETOOBIG, "--data-dir: path longer than", big);
    free(big);
}
END_TEST

START_TEST(reject_missing_required)
{
    char *argv[] = {"weft-orderer", NULL};
    expect_reject(1, argv, no_env, LC_EINVALID,
                  "--data-dir: required (set the flag or WEFT_ORDERER_DATA_DIR)");
}
END_TEST

START_TEST(reject_bad_env_value_names_variable)
{
    char *const env[] = {"WEFT_ORDERER_DATA_DIR=/d", "WEFT_ORDERER_MAX_MSG_SIZE=ten", NULL};
    char *argv[] = {"weft-orderer", NULL};
    expect_reject(1, argv, env, LC_ESYNTAX,
                  "WEFT_ORDERER_MAX_MSG_SIZE: 'ten' is not a size (expected e.g. 10MB)");
    char *const env2[] = {"WEFT_ORDERER_DATA_DIR=/d", "WEFT_ORDERER_WORKERS=100", NULL};
    expect_reject(1, argv, env2, LC_EINVALID, "WEFT_ORDERER_WORKERS: '100' is out of range");
}
END_TEST

START_TEST(reject_unknown_env_under_service_prefix)
{
    char *const env[] = {"WEFT_ORDERER_DATA_DIR=/d", "WEFT_ORDERER_WORKRES=3",
                         "WEFT_ENDORSER_WORKERS=3", NULL};
    char *argv[] = {"weft-orderer", NULL};
    expect_reject(1, argv, env, LC_EINVALID, "WEFT_ORDERER_WORKRES: no such setting for orderer");
}
END_TEST

START_TEST(positional_args_collected)
{
    static const struct lc_conf_def d = {
        .service = "cli",
        .args_usage = "CHANNEL KEY",
        .settings = settings,
        .n_settings = 3,
    };
    struct lc_conf *c = NULL;
    struct lc_errbuf err;
    ck_assert_int_eq(lc_conf_new(&d, &c, &err), 0);
    char *argv[] = {"query", "mychannel", "--tls", "-", "--", "--workers=3", NULL};
    ck_assert_int_eq(lc_conf_parse(c, 6, argv, no_env, &err), 0);
    ck_assert(lc_conf_bool(c, "tls"));
    ck_assert_int_eq(lc_conf_int(c, "workers"), 2);
    ck_assert_uint_eq(lc_conf_nargs(c), 3);
    ck_assert_str_eq(lc_conf_arg(c, 0), "mychannel");
    ck_assert_str_eq(lc_conf_arg(c, 1), "-");
    ck_assert_str_eq(lc_conf_arg(c, 2), "--workers=3");
    ck_assert_ptr_null(lc_conf_arg(c, 3));
    lc_conf_free(c);
}
END_TEST

/* ---- log settings ---- */

START_TEST(log_spec_from_flag_and_env)
{
    struct lc_conf *c = new_conf();
    struct lc_errbuf err;
    char buf[64];
    ck_assert_int_eq(PARSE(c, base_env, &err, "--log-spec=warn:kv=debug"), 0);
    lc_log_spec_get(buf, sizeof buf);
    ck_assert_str_eq(buf, "warn:kv=debug");
    ck_assert(lc_log_enabled("kv", LC_LOG_DEBUG));
    ck_assert(!lc_log_enabled("rpc", LC_LOG_INFO));

    char *const env[] = {"WEFT_ORDERER_DATA_DIR=/d", "WEFT_LOGGING_SPEC=error:rpc=info",
                         "WEFT_LOGGING_FORMAT=json", NULL};
    char *argv[] = {"weft-orderer", NULL};
    ck_assert_int_eq(lc_conf_parse(c, 1, argv, env, &err), 0);
    lc_log_spec_get(buf, sizeof buf);
    ck_assert_str_eq(buf, "error:rpc=info");
    ck_assert_str_eq(lc_conf_enum(c, LC_CONF_LOG_FORMAT), "json");
    ck_assert_int_eq(PARSE(c, env, &err, "--log-spec=debug", "--log-format=text"), 0);
    lc_log_spec_get(buf, sizeof buf);
    ck_assert_str_eq(buf, "debug");
    lc_log_spec_set("info", NULL);
    lc_conf_free(c);
}
END_TEST

START_TEST(reject_bad_log_spec_and_keep_old)
{
    ck_assert_int_eq(lc_log_spec_set("warn", NULL), 0);
    REJECT(base_env, LC_ESYNTAX, "--log-spec: log spec: unknown level 'loud'",
           "--log-spec=info:kv=loud");
    char *const env[] = {"WEFT_ORDERER_DATA_DIR=/d", "WEFT_LOGGING_SPEC=noisy", NULL};
    char *argv[] = {"weft-orderer", NULL};
    expect_reject(1, argv, env, LC_ESYNTAX, "WEFT_LOGGING_SPEC: log spec: unknown level 'noisy'");
    char buf[64];
    lc_log_spec_get(buf, sizeof buf);
    ck_assert_str_eq(buf, "warn");
    REJECT(base_env, LC_EINVALID, "--log-format: 'xml' is not one of: text, json",
           "--log-format=xml");
    lc_log_spec_set("info", NULL);
}
END_TEST

/* ---- table checks ---- */

static const struct lc_conf_setting t_upper[] = {{.name = "Listen", .help = "h"}};
static const struct lc_conf_setting t_space[] = {{.name = "a b", .help = "h"}};
static const struct lc_conf_setting t_help[] = {{.name = "help", .help = "h"}};
static const struct lc_conf_setting t_logspec[] = {{.name = "log-spec", .help = "h"}};
static const struct lc_conf_setting t_twice[] = {{.name = "a", .help = "h"},
                                                 {.name = "a", .help = "h"}};
static const struct lc_conf_setting t_env[] = {{.name = "a", .env = "lower", .help = "h"}};
static const struct lc_conf_setting t_env_twice[] = {
    {.name = "a", .help = "h"}, {.name = "b", .env = "WEFT_SVC_A", .help = "h"}};
static const struct lc_conf_setting t_req_def[] = {
    {.name = "a", .def = "x", .required = true, .help = "h"}};
static const struct lc_conf_setting t_enum[] = {{.name = "a", .type = LC_CONF_ENUM, .help = "h"}};
static const struct lc_conf_setting t_range[] = {
    {.name = "a", .type = LC_CONF_INT, .min = 5, .max = 1, .help = "h"}};
static const struct lc_conf_setting t_nohelp[] = {{.name = "a"}};
static const struct lc_conf_setting t_type[] = {
    {.name = "a", .type = (enum lc_conf_type)42, .help = "h"}};
static const struct lc_conf_setting t_bad_def[] = {
    {.name = "a", .type = LC_CONF_SIZE, .def = "lots", .help = "h"}};
static const struct lc_conf_setting t_def_range[] = {
    {.name = "a", .type = LC_CONF_INT, .def = "0", .min = 1, .max = 2, .help = "h"}};

static const struct {
    const char *service;
    const struct lc_conf_setting *settings;
    size_t n;
    int code;
    const char *want;
} table_rejects[] = {
    {"svc", t_upper, 1, LC_EINVALID, "setting 0: bad flag name 'Listen'"},
    {"svc", t_space, 1, LC_EINVALID, "setting 0: bad flag name 'a b'"},
    {"svc", t_help, 1, LC_EINVALID, "--help: the name is reserved"},
    {"svc", t_logspec, 1, LC_EINVALID, "--log-spec: declared twice"},
    {"svc", t_twice, 2, LC_EINVALID, "--a: declared twice"},
    {"svc", t_env, 1, LC_EINVALID, "--a: bad environment variable name 'lower'"},
    {"svc", t_env_twice, 2, LC_EINVALID, "--b: environment variable WEFT_SVC_A also used by --a"},
    {"svc", t_req_def, 1, LC_EINVALID, "--a: required, yet has a default"},
    {"svc", t_enum, 1, LC_EINVALID, "--a: enum without choices"},
    {"svc", t_range, 1, LC_EINVALID, "--a: min 5 > max 1"},
    {"svc", t_nohelp, 1, LC_EINVALID, "--a: no help text"},
    {"svc", t_type, 1, LC_EINVALID, "--a: unknown type 42"},
    {"svc", t_bad_def, 1, LC_ESYNTAX, "default of --a: 'lots' is not a size (expected e.g. 10MB)"},
    {"svc", t_def_range, 1, LC_EINVALID, "default of --a: '0' is out of range (1..2)"},
    {"Bad Svc", NULL, 0, LC_EINVALID, "conf: bad service name 'Bad Svc'"},
    {"svc", NULL, 3, LC_EINVALID, "conf: 3 settings but no table"},
};

START_TEST(reject_table)
{
    struct lc_conf_def d = {.service = table_rejects[_i].service,
                            .settings = table_rejects[_i].settings,
                            .n_settings = table_rejects[_i].n};
    struct lc_conf *c = NULL;
    struct lc_errbuf err = {{0}};
    ck_assert_int_eq(lc_conf_new(&d, &c, &err), table_rejects[_i].code);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err.msg, table_rejects[_i].want);
}
END_TEST

/* ---- help ---- */

static char *help_text(struct lc_conf *c, enum lc_conf_help fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(lc_conf_write_help(c, fmt, f), 0);
    fclose(f);
    return buf;
}

START_TEST(help_flag_is_recorded_and_skips_checks)
{
    struct lc_conf *c = new_conf();
    struct lc_errbuf err;
    /* no data dir and a bad flag: help wins over both */
    ck_assert_int_eq(PARSE(c, no_env, &err, "--workers=zero", "--help"), 0);
    ck_assert_int_eq(lc_conf_help_requested(c), LC_CONF_HELP_TEXT);
    ck_assert_int_eq(PARSE(c, no_env, &err, "-h"), 0);
    ck_assert_int_eq(lc_conf_help_requested(c), LC_CONF_HELP_TEXT);
    ck_assert_int_eq(PARSE(c, no_env, &err, "--help=markdown"), 0);
    ck_assert_int_eq(lc_conf_help_requested(c), LC_CONF_HELP_MARKDOWN);
    ck_assert_int_eq(PARSE(c, no_env, &err, "--help=pdf"), LC_EINVALID);
    ck_assert_str_eq(err.msg, "--help: 'pdf' is not one of: text, markdown");
    ck_assert_int_eq(PARSE(c, base_env, &err, "--workers=3"), 0);
    ck_assert_int_eq(lc_conf_help_requested(c), LC_CONF_HELP_NONE);
    lc_conf_free(c);
}
END_TEST

START_TEST(help_text_lists_every_setting)
{
    struct lc_conf *c = new_conf();
    char *t = help_text(c, LC_CONF_HELP_TEXT);
    const char *want[] = {
        "Usage: weft-orderer [FLAGS]\nOrders transactions into blocks.\n",
        ("  --listen HOST:PORT\n      host:port; default 0.0.0.0:7051; env WEFT_ORDERER_LISTEN\n"
         "      Address the gRPC server listens on.\n"),
        "  --workers N\n      integer, 1..64; default 2; env WEFT_ORDERER_WORKERS\n",
        "  --tls[=BOOL]\n      boolean; default false; env WEFT_ORDERER_TLS\n",
        "  --batch-timeout DURATION\n      duration (e.g. 2s, 500ms, 1m), 1ms..1h; default 2s;",
        "  --max-msg-size SIZE\n      size (e.g. 10MB, 512KiB), 1KiB..1GiB; default 100MB;",
        "  --consensus WORD\n      one of solo, kafka; default solo; env WEFT_ORDERER_CONSENSUS\n",
        "  --data-dir PATH\n      path; required; env WEFT_ORDERER_DATA_DIR\n",
        "  --msp-id TEXT\n      string; env CORE_PEER_LOCALMSPID\n      This node's MSP ID.\n",
        "  --log-spec TEXT\n      string; default info; env WEFT_LOGGING_SPEC\n",
        "  --log-format WORD\n      one of text, json; default text; env WEFT_LOGGING_FORMAT\n",
        "  --help[=markdown]\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(t, want[i]) != NULL, "help lacks:\n%s\n--- help:\n%s", want[i], t);
    free(t);
    lc_conf_free(c);
}
END_TEST

START_TEST(help_markdown_is_a_table)
{
    struct lc_conf *c = new_conf();
    char *t = help_text(c, LC_CONF_HELP_MARKDOWN);
    const char *want[] = {
        "| Flag | Environment variable | Type | Default | Description |\n|---|---|---|---|---|\n",
        ("| `--listen` | `WEFT_ORDERER_LISTEN` | host:port | `0.0.0.0:7051` | Address the gRPC "
         "server listens on. |\n"),
        ("| `--max-msg-size` | `WEFT_ORDERER_MAX_MSG_SIZE` | size (e.g. 10MB, 512KiB), "
         "1KiB..1GiB | `100MB` | Largest gRPC message \\| in or out. |\n"),
        "| `--consensus` | `WEFT_ORDERER_CONSENSUS` | one of `solo`, `kafka` | `solo` |",
        "| `--data-dir` | `WEFT_ORDERER_DATA_DIR` | path | *required* | Where blocks go. |\n",
        "| `--msp-id` | `CORE_PEER_LOCALMSPID` | string |  | This node's MSP ID. |\n",
        "| `--log-spec` | `WEFT_LOGGING_SPEC` | string | `info` |",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(t, want[i]) != NULL, "markdown lacks:\n%s\n--- got:\n%s", want[i], t);
    /* header, separator, one row per setting (8 declared + 2 log settings) */
    size_t lines = 0;
    for (const char *p = t; *p; p++)
        lines += *p == '\n';
    ck_assert_uint_eq(lines, 2 + 10);
    free(t);
    lc_conf_free(c);
}
END_TEST

START_TEST(free_accepts_null)
{
    lc_conf_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, defaults_apply_when_nothing_given);
    tcase_add_test(tc, both_flag_forms_and_every_type);
    tcase_add_test(tc, value_spellings);
    tcase_add_test(tc, flag_beats_env_beats_default);
    tcase_add_test(tc, later_flag_wins_and_parse_restarts_from_defaults);
    tcase_add_test(tc, empty_env_counts_as_unset);
    tcase_add_test(tc, flag_hides_bad_env_for_same_setting);
    tcase_add_test(tc, failed_parse_keeps_previous_values);
    tcase_add_test(tc, positional_args_collected);
    tcase_add_test(tc, free_accepts_null);
    suite_add_tcase(s, tc);
    TCase *rej = tcase_create("rejections");
    tcase_add_loop_test(rej, reject_flag, 0, sizeof flag_rejects / sizeof flag_rejects[0]);
    tcase_add_test(rej, reject_overlong_path);
    tcase_add_test(rej, reject_missing_required);
    tcase_add_test(rej, reject_bad_env_value_names_variable);
    tcase_add_test(rej, reject_unknown_env_under_service_prefix);
    suite_add_tcase(s, rej);
    TCase *lg = tcase_create("log");
    tcase_add_test(lg, log_spec_from_flag_and_env);
    tcase_add_test(lg, reject_bad_log_spec_and_keep_old);
    suite_add_tcase(s, lg);
    TCase *tb = tcase_create("table");
    tcase_add_loop_test(tb, reject_table, 0, sizeof table_rejects / sizeof table_rejects[0]);
    suite_add_tcase(s, tb);
    TCase *hp = tcase_create("help");
    tcase_add_test(hp, help_flag_is_recorded_and_skips_checks);
    tcase_add_test(hp, help_text_lists_every_setting);
    tcase_add_test(hp, help_markdown_is_a_table);
    suite_add_tcase(s, hp);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The weft tool's entry point: global flags, then dispatch to `weft <command> [flags]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmds.h"
#include "libcommon/log.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "unknown"
#endif

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"cryptogen", weft_cmd_cryptogen, "make MSP directories, keys and certificates for a network"},
    {"genesis", weft_cmd_genesis, "write block 0 of a channel from a profile"},
    {"inspect", weft_cmd_inspect, "decode a block, envelope, proposal or response to JSON"},
    {"query", weft_cmd_query, "evaluate a chaincode function on endorsers (nothing is ordered)"},
    {"invoke", weft_cmd_invoke, "endorse a transaction and broadcast it to an orderer"},
    {"blocks", weft_cmd_blocks, "read a channel's blocks from an orderer, hashes checked"},
    {"events", weft_cmd_events, "read committed blocks and validation codes from eventd"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: weft [--log-spec SPEC] <command> [flags]\n"
                 "       weft <command> --help\n"
                 "       weft --help | --version\n\n"
                 "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nglobal flags:\n"
                 "  --log-spec SPEC  log levels, e.g. \"info\" or \"warn:msp=debug\" "
                 "(env WEFT_LOGGING_SPEC)\n");
}

static void list_commands(FILE *out)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "%s%s", i ? ", " : "", commands[i].name);
    fputc('\n', out);
}

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Checks the spec and hands it on through WEFT_LOGGING_SPEC, which every command reads (a
 * command's own --log-spec still wins). */
static int apply_log_spec(const char *spec)
{
    struct lc_errbuf err;
    if (lc_log_spec_set(spec, &err) < 0) {
        fprintf(stderr, "weft: --log-spec: %s\n", err.msg);
        return -1;
    }
    if (setenv("WEFT_LOGGING_SPEC", spec, 1) < 0) {
        perror("weft: setenv");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *env_spec = getenv("WEFT_LOGGING_SPEC");
    if (env_spec && *env_spec) {
        struct lc_errbuf err;
        if (lc_log_spec_set(env_spec, &err) < 0) {
            fprintf(stderr, "weft: WEFT_LOGGING_SPEC: %s\n", err.msg);
            return 2;
        }
    }
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("weft %s\n", WEFT_VERSION);
            return 0;
        }
        if (strcmp(a, "--log-spec") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "weft: --log-spec needs a value\n");
                return 2;
            }
            if (apply_log_spec(argv[++i]) < 0)
                return 2;
            continue;
        }
        if (strncmp(a, "--log-spec=", 11) == 0) {
            if (apply_log_spec(a + 11) < 0)
                return 2;
            continue;
        }
        fprintf(stderr, "weft: unknown flag '%s'\n\n", a);
        usage(stderr);
        return 2;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[i];
    if (strcmp(name, "help") == 0) {
        if (i + 1 >= argc) {
            usage(stdout);
            return 0;
        }
        const struct command *c = find(argv[i + 1]);
        if (!c) {
            fprintf(stderr, "weft: unknown command '%s'; commands: ", argv[i + 1]);
            list_commands(stderr);
            return 2;
        }
        char *help_argv[] = {(char *)c->name, (char *)"--help", NULL};
        return c->run(2, help_argv);
    }
    const struct command *c = find(name);
    if (!c) {
        fprintf(stderr, "weft: unknown command '%s'; commands: ", name);
        list_commands(stderr);
        return 2;
    }
    return c->run(argc - i, argv + i);
}

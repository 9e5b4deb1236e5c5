/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the weft tool tests: temp dirs, files, running the weft binary, test MSPs. */
#ifndef WEFT_TEST_CLI_HELPERS_H
#define WEFT_TEST_CLI_HELPERS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* A fresh directory under /tmp (caller frees the string after th_rmtree). */
char *th_tmpdir(void);
void th_rmtree(const char *dir);

/* "dir/name" in a static rotating buffer (valid for the next few calls). */
const char *th_path(const char *dir, const char *name);

void th_write(const char *path, const void *buf, size_t len);
void th_write_str(const char *path, const char *text);
/* Whole file, NUL-terminated (caller frees); NULL if it cannot be read. */
uint8_t *th_read(const char *path, size_t *ret_len);

/* Runs $WEFT_BUILD_ROOT/cli/weft with args (NULL-terminated, without the program name) in
 * directory cwd (NULL: the current one). Returns the exit status; *ret_out and *ret_err (if not
 * NULL) get stdout and stderr (caller frees). */
int th_weft(const char *cwd, char **ret_out, char **ret_err, const char *const args[]);

/* Packs msg into a malloc'd buffer (asserts on failure). */
ProtobufCBinaryData th_pack(const ProtobufCMessage *msg);

/* A self-signed P-256 signing certificate, PEM (caller frees). */
char *th_cert_pem(const char *cn, const char *ou);

/* A minimal Fabric MSP directory for mspid under dir: a CA in cacerts/ and tlscacerts/ and a
 * config.yaml enabling NodeOUs (so no admincerts are needed). */
void th_make_msp(const char *dir, const char *mspid);

/* json_object_get along a path of keys and array indexes ("a", "0", "b"); NULL if missing. */
json_t *th_json_at(json_t *root, const char *const keys[]);
#define TH_AT(root, ...) th_json_at((root), (const char *const[]){__VA_ARGS__, NULL})
/* The string at that path, or "" when it is not a string. */
const char *th_str(json_t *j);

Suite *inspect_suite(void);
Suite *genesis_suite(void);

#endif

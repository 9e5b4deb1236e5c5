/* SPDX-License-Identifier: Apache-2.0 */
/* weft's error codes and the message buffer every validator fills with the cause. */
#ifndef LC_ERR_H
#define LC_ERR_H

#include <stddef.h>

/* Functions return 0 or a negative code: -errno for system errors, or one of these. */
enum lc_err {
    LC_EDECODE = -1000, /* malformed or truncated protobuf / DER / PEM */
    LC_EINVALID,        /* decodes, but a field holds a value that is not allowed */
    LC_ETOOBIG,         /* over a configured size limit */
    LC_EBADSIG,         /* a signature does not verify */
    LC_EHIGHS,          /* an ECDSA signature with a high S value */
    LC_EBADKEY,         /* a key that cannot be used (bad PEM, wrong curve, wrong type) */
    LC_EBADCERT,        /* a certificate that does not chain to the MSP or is malformed */
    LC_EEXPIRED,        /* a certificate outside its validity period */
    LC_EREVOKED,        /* a certificate on a CRL of its MSP */
    LC_EUNKNOWNMSP,     /* an MSP id the channel does not know */
    LC_EROLE,           /* NodeOU classification failed */
    LC_EPOLICY,         /* a policy was not satisfied */
    LC_ESYNTAX,         /* a syntax error in a text input (policy, profile, flag) */
    LC_ENOTFOUND,       /* no such key, block, channel, chaincode */
    LC_EEXISTS,         /* already there (duplicate TxID, key) */
    LC_ECRYPTO,         /* the crypto library failed internally */
    LC_EMAPFULL,        /* the LMDB map is full */
    LC_ECORRUPT,        /* stored data failed an integrity check */
    LC_EUNAVAIL,        /* a dependency is not ready or not reachable */
    LC_ECLOSED,         /* the object was shut down */
    LC_ETIMEOUT,        /* a deadline passed */
    LC_EMISMATCH,       /* two things that must be equal are not (hash, TxID, payloads) */
    LC__ELAST
};

/* Names a code, for log lines and messages; never NULL. */
const char *lc_strerror(int code);

/* Where a function that can reject input writes why, for the caller to log or send back. */
struct lc_errbuf {
    char msg[320];
};

/* Formats the cause into eb (if eb is not NULL) and returns code, so a rejection is one line:
 * `return lc_fail(err, LC_EDECODE, "SignedProposal: %s", "truncated");` */
int lc_fail(struct lc_errbuf *eb, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in eb with more context ("proposal: " + old message). */
void lc_errbuf_prefix(struct lc_errbuf *eb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif

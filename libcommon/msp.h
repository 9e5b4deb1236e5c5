/* SPDX-License-Identifier: Apache-2.0 */
/* Fabric X.509 MSPs: channel MSPs from MSPConfig, validated identities, principals, signers. */
#ifndef LC_MSP_H
#define LC_MSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "msp/msp_config.pb-c.h"
#include "msp/msp_principal.pb-c.h"

#include "libcommon/crypto.h"
#include "libcommon/err.h"
#include "libcommon/policy.h"

/*
 * Semantics are Fabric 2.x's MSP at version 1.4.3 (what the V2_0 capability selects), see wire
 * facts §7 and §8. Nothing here reads the clock except lc_identity_check_validity: chains are
 * verified as of each certificate's NotBefore + 1 s, so every committer reaches the same verdict
 * on the same bytes forever.
 *
 * Threads: an lc_msp and an lc_identity are immutable once made and reference-counted
 * atomically; an lc_msp_mgr is locked inside. All of them may be used from many threads at once;
 * only the last _unref/_free must not race with other uses of the same object.
 */

/* Longest serialized identity accepted, in bytes (a SerializedIdentity with one PEM cert is
 * about 1 KiB). */
#define LC_MSP_MAX_IDENTITY (64 * 1024)
/* Most files read from one folder of an MSP directory, and the longest config.yaml. */
#define LC_MSP_MAX_DIR_FILES 256
#define LC_MSP_MAX_CONFIG_YAML (64 * 1024)

/* The roles an identity holds, as a bitmask (lc_identity_roles). CLIENT, PEER, ADMIN and
 * ORDERER come from the NodeOU role OUs when NodeOUs are enabled (exactly one of them is then
 * set); ADMIN is also set for a certificate listed in the MSP's `admins`. Every valid identity is
 * a member, so there is no bit for MEMBER. */
enum lc_msp_role {
    LC_ROLE_CLIENT = 1u << 0,
    LC_ROLE_PEER = 1u << 1,
    LC_ROLE_ADMIN = 1u << 2,
    LC_ROLE_ORDERER = 1u << 3,
};

/* One organisation's MSP, built from its msp.MSPConfig. Reference-counted: every identity it
 * validates holds a reference, so it outlives a channel config that is replaced. */
struct lc_msp;
/* A validated identity: its sanitised certificate, its MSP, its roles. Reference-counted. */
struct lc_identity;

/* ---- one MSP ------------------------------------------------------------------------------ */

/* Builds an MSP from a decoded MSPConfig, as Fabric's setup does:
 *  - type must be 0 (FABRIC) and config a FabricMSPConfig with a non-empty name;
 *  - root_certs: at least one, each PEM, each a CA with a SubjectKeyIdentifier;
 *  - intermediate_certs: each a CA with an SKI that chains to the roots (as of its own
 *    NotBefore + 1 s) and is not revoked;
 *  - revocation_list: CRLs, PEM or DER;
 *  - crypto_config: empty, or SHA2 / SHA256 (nothing else is supported);
 *  - organizational_unit_identifiers and fabric_node_ous: a Certificate, when given, must be one
 *    of the roots or intermediates (an intermediate must not have CAs below it in this MSP);
 *    NodeOUs with no role OU configured at all count as disabled;
 *  - admins: each PEM and chaining to the roots; with NodeOUs enabled each must carry the client
 *    or the admin OU, without NodeOUs each must be a valid identity; no admins at all is
 *    rejected unless NodeOUs define an admin OU;
 *  - tls_root_certs / tls_intermediate_certs: CAs with an SKI; TLS intermediates chain to the
 *    TLS roots (as of their own NotBefore + 1 s, where Fabric reads the clock).
 * signing_identity is ignored (weft keeps keys out of channel config; see lc_signer).
 * Certificates are sanitised to low-S signatures as Fabric does. Rejections name the MSP and the
 * field: LC_EINVALID (bad type or value), LC_EDECODE (bytes or PEM that do not decode),
 * LC_EBADCERT / LC_EREVOKED (a CA that does not chain or is revoked), -ENOMEM. On success the
 * caller holds one reference in *ret (lc_msp_unref). */
int lc_msp_new(const Msp__MSPConfig *cfg, struct lc_errbuf *err, struct lc_msp **ret);

/* Same from packed MSPConfig bytes (LC_EDECODE if they do not decode). */
int lc_msp_new_from_bytes(const uint8_t *buf, size_t len, struct lc_errbuf *err,
                          struct lc_msp **ret);

struct lc_msp *lc_msp_ref(struct lc_msp *msp); /* returns msp; accepts NULL */
void lc_msp_unref(struct lc_msp *msp);         /* accepts NULL */

/* The MSP id (FabricMSPConfig.name), borrowed. */
const char *lc_msp_name(const struct lc_msp *msp);

/* Whether NodeOU classification is enforced. */
bool lc_msp_node_ous_enabled(const struct lc_msp *msp);

/* TLS root and intermediate CA certificates as given in the config (PEM bytes), borrowed; for
 * building TLS trust stores. NULL when i is out of range. */
size_t lc_msp_tls_root_count(const struct lc_msp *msp);
const uint8_t *lc_msp_tls_root(const struct lc_msp *msp, size_t i, size_t *ret_len);
size_t lc_msp_tls_intermediate_count(const struct lc_msp *msp);
const uint8_t *lc_msp_tls_intermediate(const struct lc_msp *msp, size_t i, size_t *ret_len);

/* Deserializes and validates identity bytes against this MSP alone, without a cache; see
 * lc_msp_mgr_deserialize for what is checked. The mspid in the bytes must be this MSP's name
 * (LC_EUNKNOWNMSP otherwise). */
int lc_msp_deserialize(struct lc_msp *msp, const uint8_t *buf, size_t len, struct lc_errbuf *err,
                       struct lc_identity **ret);

/* ---- the channel's MSPs, with an identity cache ------------------------------------------- */

struct lc_msp_mgr;

/* A manager belongs to one channel config: MSPs are added, never changed or removed, so a
 * cached verdict stays right. A config update builds a new manager (identities handed out by
 * the old one stay usable until unref'd).
 *
 * Makes an empty manager whose cache keeps at most cache_max validated identities (least
 * recently used evicted first; 0 disables the cache). Returns 0 or -ENOMEM. */
int lc_msp_mgr_new(size_t cache_max, struct lc_msp_mgr **ret);

/* Adds msp (the manager takes its own reference). Rejects an MSP whose name is already there
 * (LC_EEXISTS). Safe while other threads deserialize. Returns 0, LC_EEXISTS or -ENOMEM. */
int lc_msp_mgr_add(struct lc_msp_mgr *mgr, struct lc_msp *msp, struct lc_errbuf *err);

/* Builds an MSP from packed MSPConfig bytes and adds it (lc_msp_new_from_bytes + add). */
int lc_msp_mgr_add_config(struct lc_msp_mgr *mgr, const uint8_t *buf, size_t len,
                          struct lc_errbuf *err);

/* Drops the MSPs and the cache; identities handed out stay valid until unref'd. Accepts NULL. */
void lc_msp_mgr_free(struct lc_msp_mgr *mgr);

/* The MSP named mspid, or NULL; borrowed (MSPs are never removed from a manager, so it lives
 * as long as the manager). */
struct lc_msp *lc_msp_mgr_get(struct lc_msp_mgr *mgr, const char *mspid);
/* MSPs in the order they were added; NULL when i is out of range. Borrowed likewise. */
size_t lc_msp_mgr_count(struct lc_msp_mgr *mgr);
struct lc_msp *lc_msp_mgr_at(struct lc_msp_mgr *mgr, size_t i);

/* Deserializes identity bytes (msp.SerializedIdentity{mspid=1, id_bytes=2}) into a validated
 * identity, from the cache when the same bytes were validated before. Checks, in order:
 *   over LC_MSP_MAX_IDENTITY                                      -> LC_ETOOBIG
 *   not a SerializedIdentity                                      -> LC_EDECODE
 *   mspid not in this manager                                     -> LC_EUNKNOWNMSP
 *   id_bytes: no PEM block, or its first block not a certificate  -> LC_EDECODE
 *   a CA certificate (BasicConstraints cA)                        -> LC_EBADCERT
 *   no chain to the MSP's roots and intermediates as of NotBefore + 1 s, a chain of length 1,
 *   or a direct issuer that has CAs below it in this MSP          -> LC_EBADCERT
 *   on a CRL of its issuer                                        -> LC_EREVOKED
 *   NodeOUs on: not exactly one role OU, or the role OU's certifiers id does not match the
 *   configured Certificate; NodeOUs off: OrganizationalUnitIdentifiers configured and none
 *   matches                                                       -> LC_EROLE
 * Expiry is NOT checked (see lc_identity_check_validity). Failures are not cached: the next
 * call with the same bytes checks again (a failure costs what a miss costs, and caching them
 * would let junk evict good identities). On success *ret holds a new reference (caller unrefs).
 * -ENOMEM on allocation failure. */
int lc_msp_mgr_deserialize(struct lc_msp_mgr *mgr, const uint8_t *buf, size_t len,
                           struct lc_errbuf *err, struct lc_identity **ret);

/* Counters of the identity cache, read under its lock. */
struct lc_msp_cache_stats {
    uint64_t hits, misses, evictions;
    size_t entries, max;
};
void lc_msp_mgr_cache_stats(struct lc_msp_mgr *mgr, struct lc_msp_cache_stats *ret);

/* Identity callbacks for the policy module, ctx = struct lc_msp_mgr *: deserialize through the
 * manager's cache, key = lc_identity_id, verify = lc_identity_verify, satisfies =
 * lc_identity_satisfies_principal, release = lc_identity_unref. */
extern const struct lc_policy_identity_ops lc_msp_policy_ops;

/* ---- identities --------------------------------------------------------------------------- */

struct lc_identity *lc_identity_ref(struct lc_identity *id); /* returns id; accepts NULL */
void lc_identity_unref(struct lc_identity *id);              /* accepts NULL */

/* The MSP id, borrowed. */
const char *lc_identity_mspid(const struct lc_identity *id);
/* Fabric's dedup key: the MSP id followed by 64 lowercase hex digits of SHA-256 over the
 * sanitised certificate's DER (no separator; the hash is always the last 64 characters). */
const char *lc_identity_id(const struct lc_identity *id);
/* The 32-byte SHA-256 of the sanitised certificate's DER. */
const uint8_t *lc_identity_cert_hash(const struct lc_identity *id);
/* LC_ROLE_* bits. */
unsigned lc_identity_roles(const struct lc_identity *id);
/* The sanitised certificate, borrowed (lc_cert_ref it to keep it longer). */
const struct lc_cert *lc_identity_cert(const struct lc_identity *id);
/* The MSP that validated it, borrowed. */
struct lc_msp *lc_identity_msp(const struct lc_identity *id);
/* The serialized bytes it was made from, exactly as received, borrowed. */
const uint8_t *lc_identity_serialized(const struct lc_identity *id, size_t *ret_len);

/* Admission-time validity check against a wall-clock `now`: LC_EEXPIRED when now is after
 * NotAfter or before NotBefore. The endorser, orderer Broadcast and Deliver call it; block
 * validation never does. */
int lc_identity_check_validity(const struct lc_identity *id, time_t now, struct lc_errbuf *err);

/* Verifies an ECDSA signature by the identity over SHA-256(msg[0..n)): LC_EBADKEY (key not
 * P-256), LC_EDECODE (signature not minimal DER), LC_EHIGHS (high S), LC_EBADSIG. */
int lc_identity_verify(const struct lc_identity *id, const void *msg, size_t n, const uint8_t *sig,
                       size_t siglen, struct lc_errbuf *err);
/* Same over the concatenation of v[0..nv). */
int lc_identity_verify_iov(const struct lc_identity *id, const struct lc_iov *v, size_t nv,
                           const uint8_t *sig, size_t siglen, struct lc_errbuf *err);

/* Whether the identity satisfies an MSPPrincipal (Fabric's satisfiesPrincipalInternalV142):
 *   ROLE (MSPRole): msp_identifier must be the identity's MSP; MEMBER always; ADMIN if listed in
 *     `admins` or (NodeOUs on) carrying the admin OU; CLIENT, PEER, ORDERER if NodeOUs are on
 *     and the identity carries that role's OU;
 *   IDENTITY (SerializedIdentity): same MSP and the same sanitised certificate;
 *   ORGANIZATION_UNIT (OrganizationUnit): same MSP, and one of the subject OUs equals the
 *     principal's OU with certifiers_identifier equal to SHA-256 of the identity's chain without
 *     the leaf;
 *   ANONYMITY: NOMINAL passes, ANONYMOUS does not;
 *   COMBINED: every principal inside must pass (at most 8 levels deep, none empty).
 * Returns 0 when satisfied, LC_EPOLICY when not, LC_EDECODE for a principal body that does not
 * decode, LC_EINVALID for an unknown classification or role; cause in err. */
int lc_identity_satisfies_principal(const struct lc_identity *id, const Common__MSPPrincipal *p,
                                    struct lc_errbuf *err);

/* ---- signing identity --------------------------------------------------------------------- */

/* A local signing identity: certificate, P-256 private key (kept by crypto in guarded memory),
 * MSP id and the serialized identity bytes it signs as. */
struct lc_signer;

/* Loads a signer from an MSP directory in Fabric's layout: the first file (by name) under
 * signcerts/ holding PEM is the certificate; the key is keystore/priv_sk or, failing that, the
 * first keystore/ *_sk file whose key matches the certificate (PKCS#8 or SEC1 PEM, P-256).
 * Rejects: missing folders or files (-errno, naming the path), a bad certificate (LC_EDECODE),
 * a bad key (LC_EDECODE / LC_EBADKEY), no key matching the certificate (LC_EBADKEY), an empty
 * mspid (LC_EINVALID). The serialized identity holds the certificate file's bytes exactly.
 * Expiry is not checked here. Caller frees with lc_signer_free. */
int lc_signer_load(const char *msp_dir, const char *mspid, struct lc_errbuf *err,
                   struct lc_signer **ret);

/* Same from PEM texts in memory (the certificate text becomes id_bytes as given). */
int lc_signer_new(const char *mspid, const void *cert_pem, size_t cert_len, const void *key_pem,
                  size_t key_len, struct lc_errbuf *err, struct lc_signer **ret);

/* Wipes the key and frees; accepts NULL. */
void lc_signer_free(struct lc_signer *s);

const char *lc_signer_mspid(const struct lc_signer *s);
const struct lc_cert *lc_signer_cert(const struct lc_signer *s);
/* The serialized msp.SerializedIdentity (creator / endorser bytes), borrowed. */
const uint8_t *lc_signer_serialized(const struct lc_signer *s, size_t *ret_len);

/* Signs SHA-256(msg[0..n)): DER, low S. Returns 0 or LC_ECRYPTO. */
int lc_signer_sign(const struct lc_signer *s, const void *msg, size_t n,
                   uint8_t sig[LC_ECDSA_SIG_MAX], size_t *ret_len);
/* Same over the concatenation of v[0..nv). */
int lc_signer_sign_iov(const struct lc_signer *s, const struct lc_iov *v, size_t nv,
                       uint8_t sig[LC_ECDSA_SIG_MAX], size_t *ret_len);

/* ---- MSPConfig from a local MSP directory ------------------------------------------------- */

/* Builds the packed msp.MSPConfig (type FABRIC) for the MSP directory `dir` with MSP id mspid,
 * as Fabric's configbuilder does, minus the signing identity:
 *   cacerts/ (required, at least one cert), intermediatecerts/, admincerts/, crls/,
 *   tlscacerts/, tlsintermediatecerts/ (read only when tlscacerts/ has certs): every regular
 *   file holding a PEM block, in byte order of file names, its bytes kept as they are; files
 *   without PEM are skipped, a PEM file that does not parse as a certificate (a CRL in crls/)
 *   is an error naming it;
 *   config.yaml (optional, parsed with libyaml): top-level OrganizationalUnitIdentifiers (a list
 *   of {Certificate, OrganizationalUnitIdentifier}) and NodeOUs {Enable, ClientOUIdentifier,
 *   PeerOUIdentifier, AdminOUIdentifier, OrdererOUIdentifier}, each identifier
 *   {Certificate (optional), OrganizationalUnitIdentifier}; Certificate paths are relative to
 *   dir. NodeOUs with Enable false are left out, as Fabric does.
 *   crypto_config = {SHA2, SHA256}.
 * Stricter than Fabric: unknown or repeated keys in config.yaml, a Certificate file that cannot
 * be read and a missing Certificate in OrganizationalUnitIdentifiers are errors (LC_EINVALID or
 * -errno naming the key or path; LC_ESYNTAX with the line for YAML that does not parse). The
 * result is then checked by building an lc_msp from it, so a directory that would be rejected
 * on a channel is rejected here with the same message. On success *ret_buf (caller frees with
 * free()) and *ret_len hold the packed MSPConfig, exactly what goes into the channel config. */
int lc_msp_config_from_dir(const char *dir, const char *mspid, struct lc_errbuf *err,
                           uint8_t **ret_buf, size_t *ret_len);

#endif

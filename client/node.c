/* SPDX-License-Identifier: Apache-2.0 */
/* A named gRPC endpoint (endorser or orderer) with the MSP id of its org. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"
#include "libcommon/rpc.h"

struct wc_node {
    char *name;
    char *address;
    char *mspid;
    struct lc_rpc_client *rpc;
};

int wc_address_check(const char *address, struct lc_errbuf *err)
{
    if (!address || !*address)
        return lc_fail(err, LC_EINVALID, "address is empty");
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address)
        return lc_fail(err, LC_EINVALID, "address '%.200s': expected host:port", address);
    size_t host_len = (size_t)(colon - address);
    if (address[0] == '[') {
        /* an IPv6 literal must be bracketed as a whole: "[::1]:7051" */
        if (host_len < 3 || address[host_len - 1] != ']')
            return lc_fail(err, LC_EINVALID, "address '%.200s': unbalanced brackets", address);
    }
    for (size_t i = 0; i < host_len; i++) {
        unsigned char ch = (unsigned char)address[i];
        if (ch <= ' ' || ch == '/' || ch >= 0x7f)
            return lc_fail(err, LC_EINVALID, "address '%.200s': bad character in host", address);
    }
    const char *port = colon + 1;
    if (!*port || strlen(port) > 5)
        return lc_fail(err, LC_EINVALID, "address '%.200s': port must be 1..65535", address);
    unsigned long v = 0;
    for (const char *q = port; *q; q++) {
        if (*q < '0' || *q > '9')
            return lc_fail(err, LC_EINVALID, "address '%.200s': port must be 1..65535", address);
        v = v * 10 + (unsigned long)(*q - '0');
    }
    if (v < 1 || v > 65535)
        return lc_fail(err, LC_EINVALID, "address '%.200s': port must be 1..65535", address);
    return 0;
}

int wc_node_new(const struct wc_endpoint *ep, size_t max_msg_bytes, struct lc_errbuf *err,
                struct wc_node **ret)
{
    if (!ep || !ep->name || !*ep->name)
        return lc_fail(err, LC_EINVALID, "node: empty name");
    int r = wc_address_check(ep->address, err);
    if (r < 0) {
        lc_errbuf_prefix(err, "%.100s: ", ep->name);
        return r;
    }
    struct wc_node *n = calloc(1, sizeof *n);
    if (!n)
        return lc_fail(err, -ENOMEM, "node: out of memory");
    n->name = strdup(ep->name);
    n->address = strdup(ep->address);
    n->mspid = ep->mspid ? strdup(ep->mspid) : NULL;
    if (!n->name || !n->address || (ep->mspid && !n->mspid)) {
        r = lc_fail(err, -ENOMEM, "node: out of memory");
        goto fail;
    }
    struct lc_rpc_client_opts o = {
        .max_recv_bytes = max_msg_bytes,
        .max_send_bytes = max_msg_bytes,
        .deadline_ms = WC_DEFAULT_TIMEOUT_MS,
    };
    r = lc_rpc_client_new(n->address, &o, err, &n->rpc);
    if (r < 0) {
        lc_errbuf_prefix(err, "%.100s: ", n->name);
        goto fail;
    }
    *ret = n;
    return 0;
fail:
    wc_node_free(n);
    return r;
}

void wc_node_free(struct wc_node *node)
{
    if (!node)
        return;
    lc_rpc_client_free(node->rpc);
    free(node->name);
    free(node->address);
    free(node->mspid);
    free(node);
}

const char *wc_node_name(const struct wc_node *node)
{
    return node->name;
}

const char *wc_node_address(const struct wc_node *node)
{
    return node->address;
}

const char *wc_node_mspid(const struct wc_node *node)
{
    return node->mspid;
}

struct lc_rpc_client *wc_internal_node_rpc(const struct wc_node *node)
{
    return node->rpc;
}

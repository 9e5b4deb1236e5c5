// SPDX-License-Identifier: Apache-2.0
// SignedProposal interop between the real Fabric Node SDK (fabric-common 2.2.20) and weft's C
// code (proposal_tool): each side decodes, checks the TxID of and verifies what the other made.
'use strict';

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { canonical } = require('./fabric_root.js');
const { Client, User, HashPrimitives } = require('fabric-common');
const fabproto6 = require('fabric-protos');

const TOOL = process.env.PROPOSAL_TOOL;
const CHANNEL = 'mychannel';
const MSPID = 'Org1MSP';
const ARGS = ['asset1', 'blue', '5', 'Tom', '300'];

function tool(...args) {
    // stdout is the tool's JSON; its stderr (and ASan reports) go straight to ours.
    const out = execFileSync(TOOL, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return JSON.parse(out);
}

// Runs the tool expecting failure; returns its parsed stdout (if any) and exit status.
function toolFails(...args) {
    try {
        execFileSync(TOOL, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
        return { status: e.status, json: e.stdout ? JSON.parse(e.stdout) : null, stderr: e.stderr };
    }
    assert.fail(`proposal_tool ${args.join(' ')} succeeded, expected a failure`);
}

// The layers of a SignedProposal, as raw bytes, walked with Fabric's static types.
function layersOf(spBytes) {
    const P = fabproto6.protos;
    const C = fabproto6.common;
    const sp = P.SignedProposal.decode(spBytes);
    const prop = P.Proposal.decode(sp.proposal_bytes);
    const hdr = C.Header.decode(prop.header);
    const chdr = C.ChannelHeader.decode(hdr.channel_header);
    const shdr = C.SignatureHeader.decode(hdr.signature_header);
    const cpp = P.ChaincodeProposalPayload.decode(prop.payload);
    return {
        sp, prop, hdr, chdr, shdr, cpp,
        raw: {
            SignedProposal: ['protos.SignedProposal', spBytes],
            Proposal: ['protos.Proposal', sp.proposal_bytes],
            Header: ['common.Header', prop.header],
            ChannelHeader: ['common.ChannelHeader', hdr.channel_header],
            SignatureHeader: ['common.SignatureHeader', hdr.signature_header],
            SerializedIdentity: ['msp.SerializedIdentity', shdr.creator],
            ChaincodeHeaderExtension: ['protos.ChaincodeHeaderExtension', chdr.extension],
            ChaincodeProposalPayload: ['protos.ChaincodeProposalPayload', prop.payload],
            ChaincodeInvocationSpec: ['protos.ChaincodeInvocationSpec', cpp.input],
        },
    };
}

// ---- Node builds, C checks ----
function nodeProposal(dir, request) {
    const client = Client.newClient('interop');
    const user = User.createUser('user1', '', MSPID, fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
        fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'));
    const idx = client.newIdentityContext(user);
    const proposal = client.newChannel(CHANNEL).newEndorsement('basic');
    proposal.build(idx, request);
    proposal.sign(idx);
    const bytes = Buffer.from(fabproto6.protos.SignedProposal.encode(proposal.getSignedProposal()).finish());
    return { bytes, txid: proposal.getTransactionId() };
}

function nodeToC(dir, label, request) {
    const { bytes, txid } = nodeProposal(dir, request);
    const file = path.join(dir, `${label}.sp`);
    fs.writeFileSync(file, bytes);
    const r = tool('check', file);
    assert.equal(r.ok, true, `${label}: C check not ok: ${JSON.stringify(r)}`);
    assert.equal(r.tx_id, txid, `${label}: tx_id`);
    assert.equal(r.tx_id_computed, txid, `${label}: C-computed TxID differs from Node's`);
    assert.equal(r.signature_valid, true, `${label}: signature`);
    assert.equal(r.type, 3);
    assert.equal(r.version, 1);
    assert.equal(r.channel_id, CHANNEL);
    assert.equal(r.mspid, MSPID);
    assert.equal(r.nonce_len, 24);
    assert.equal(r.chaincode, 'basic');
    assert.equal(r.spec_chaincode, 'basic');
    assert.equal(r.spec_type, 1);
    assert.equal(r.creator_ou, 'client');
    assert.deepEqual(r.args, [request.fcn, ...request.args]);
    assert.equal(r.n_transient, request.transientMap ? Object.keys(request.transientMap).length : 0);

    // Every layer: protobuf-c's re-encode must equal the Go-canonical form of Node's bytes, and
    // be byte-identical exactly where Node wrote no explicit zero values.
    const { raw } = layersOf(bytes);
    assert.deepEqual(r.layers.map((l) => l.name), Object.keys(raw), `${label}: layer list`);
    const differing = [];
    for (const l of r.layers) {
        const [typeName, node] = raw[l.name];
        assert.equal(l.type, typeName, `${label}: ${l.name} type`);
        assert.equal(l.len, node.length, `${label}: ${l.name} length`);
        const canon = canonical(typeName, node);
        assert.equal(l.reencoded, canon.toString('hex'), `${label}: ${l.name}: C re-encode is not Go-canonical`);
        assert.equal(l.identical, canon.equals(node), `${label}: ${l.name}: identical flag`);
        if (!l.identical) differing.push(`${l.name} (${node.length} -> ${l.reencoded_len} bytes)`);
    }
    console.log(`ok: Node-built ${label} proposal checked by C: tx ${txid.slice(0, 16)}..., signature valid; ` +
        `re-encoded byte-identical except where Node writes explicit empty fields: ${differing.join(', ') || 'none'}`);
    return bytes;
}

// A tampered proposal must be refused by C: proves the check can fail.
function cRejectsTampered(dir, bytes) {
    const P = fabproto6.protos;
    const sp = P.SignedProposal.decode(bytes);
    const sig = Buffer.from(sp.signature);
    sig[sig.length - 1] ^= 0x01;
    const file = path.join(dir, 'tampered.sp');
    fs.writeFileSync(file, P.SignedProposal.encode({ proposal_bytes: sp.proposal_bytes, signature: sig }).finish());
    const r = toolFails('check', file);
    assert.equal(r.status, 1);
    assert.equal(r.json.signature_valid, false, 'tampered signature accepted');
    assert.equal(r.json.ok, false);
    console.log(`ok: C rejects a tampered signature (${r.json.signature_error})`);
}

// ---- C builds, Node checks ----
function cToNode(dir) {
    const file = path.join(dir, 'c.sp');
    const made = tool('make', dir, file, ...ARGS);
    const bytes = fs.readFileSync(file);
    assert.equal(made.len, bytes.length);
    const { sp, prop, chdr, shdr, cpp } = layersOf(bytes);
    const C = fabproto6.common;
    const P = fabproto6.protos;
    assert.equal(chdr.type, C.HeaderType.ENDORSER_TRANSACTION);
    assert.equal(chdr.channel_id, CHANNEL);
    assert.equal(chdr.tx_id, made.tx_id);
    assert.equal(Buffer.from(shdr.nonce).toString('hex'), made.nonce);
    assert.equal(shdr.nonce.length, 24);
    assert.ok(chdr.timestamp && Number(chdr.timestamp.seconds) > 0, 'timestamp');
    assert.equal(P.ChaincodeHeaderExtension.decode(chdr.extension).chaincode_id.name, 'basic');
    const spec = P.ChaincodeInvocationSpec.decode(cpp.input).chaincode_spec;
    assert.equal(spec.chaincode_id.name, 'basic');
    assert.equal(spec.type, P.ChaincodeSpec.Type.GOLANG);
    assert.deepEqual(spec.input.args.map((a) => Buffer.from(a).toString('utf8')), ['CreateAsset', ...ARGS]);
    assert.equal(prop.extension.length, 0);

    // The creator must be byte-for-byte what the Node SDK serializes for the same user.
    const certPem = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    const user = User.createUser('user1', '', MSPID, certPem);
    const idx = Client.newClient('interop-verify').newIdentityContext(user);
    assert.ok(Buffer.from(shdr.creator).equals(idx.serializeIdentity()), 'creator differs from Node\'s serialization');

    // TxID the way the Node SDK computes it (IdentityContext.calculateTransactionId).
    const txid = HashPrimitives.SHA2_256(Buffer.concat([Buffer.from(shdr.nonce), Buffer.from(shdr.creator)]));
    assert.equal(chdr.tx_id, Buffer.from(txid).toString(), 'TxID');

    // Signature over proposal_bytes: node:crypto, then the SDK's own verifier (which also
    // rejects high-S signatures), then a tampered copy that must fail.
    const proposalBytes = Buffer.from(sp.proposal_bytes);
    const signature = Buffer.from(sp.signature);
    assert.ok(crypto.createVerify('SHA256').update(proposalBytes).verify(certPem, signature), 'node:crypto verify');
    assert.ok(user.getIdentity().verify(proposalBytes, signature), 'fabric-common Identity.verify');
    const tampered = Buffer.from(proposalBytes);
    tampered[tampered.length - 1] ^= 0x01;
    assert.ok(!crypto.createVerify('SHA256').update(tampered).verify(certPem, signature), 'tampered bytes verified');
    assert.ok(!user.getIdentity().verify(tampered, signature), 'tampered bytes verified by the SDK');

    // And the C checker agrees with itself on its own output.
    const r = tool('check', file);
    assert.equal(r.ok, true);
    assert.ok(r.layers.every((l) => l.identical), 'C-made layers re-encode identically');
    console.log(`ok: C-built proposal checked by Node: tx ${chdr.tx_id.slice(0, 16)}..., TxID and creator match the SDK's, ` +
        'signature valid for node:crypto and fabric-common (low S)');
}

function main() {
    if (!TOOL) throw new Error('PROPOSAL_TOOL is not set (run through meson test)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-interop-'));
    try {
        tool('keygen', dir);
        for (const f of ['ca.pem', 'cert.pem', 'key.pem']) assert.ok(fs.existsSync(path.join(dir, f)), f);
        const plain = nodeToC(dir, 'plain', { fcn: 'CreateAsset', args: ARGS });
        nodeToC(dir, 'transient', { fcn: 'CreateAsset', args: ARGS, transientMap: { secret: Buffer.from('s3cr3t') } });
        cRejectsTampered(dir, plain);
        cToNode(dir);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    console.log('proposal_interop: all checks passed');
}

try {
    main();
} catch (e) {
    console.error(`proposal_interop: FAILED: ${e.stack || e}`);
    process.exit(1);
}

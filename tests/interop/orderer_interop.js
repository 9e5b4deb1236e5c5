// SPDX-License-Identifier: Apache-2.0
// The real Fabric Node SDK (fabric-common 2.2.20, no TLS) endorses a transaction on weft's
// endorser and commits it to weft's orderer with Commit.send; the orderer answers SUCCESS. The
// blocks are then read back over orderer.AtomicBroadcast/Deliver (a grpc-js client on
// fabric-protos' service definition) and checked: the transaction is there, byte for byte as the
// SDK built it, in a block whose data hash, previous hash and orderer signature check out and
// which fabric-common's BlockDecoder reads.
'use strict';

const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

let Client, User, BlockDecoder, fabproto6, grpc;
try {
    ({ Client, User, BlockDecoder } = require('fabric-common'));
    fabproto6 = require('fabric-protos');
    grpc = require(require.resolve('@grpc/grpc-js', { paths: [path.dirname(require.resolve('fabric-protos'))] }));
} catch (e) {
    console.log(`SKIP: fabric-common is not installed (run npm ci in ${__dirname})`);
    process.exit(77);
}
const { canonical, protobuf } = require('./fabric_root.js');

const BUILD = process.env.WEFT_BUILD_ROOT;
const CHANNEL = 'mychannel';

function run(exe, args, cwd) {
    return execFileSync(exe, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function makeNetwork(dir) {
    const weft = path.join(BUILD, 'cli', 'weft');
    run(weft, ['cryptogen', '--output', 'crypto', '--peer-orgs', '2', '--peers-per-org', '1', '--users', '1'], dir);
    fs.writeFileSync(path.join(dir, 'profile.yaml'), [
        'Orderer:',
        '  OrdererType: solo',
        '  Addresses: [127.0.0.1:7050]',
        '  BatchTimeout: 300ms',
        '  BatchSize: {MaxMessageCount: 10}',
        '  Organizations:',
        '    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: crypto/ordererOrganizations/example.com/msp}',
        'Application:',
        '  Organizations:',
        '    - {Name: Org1, ID: Org1MSP, MSPDir: crypto/peerOrganizations/org1.example.com/msp}',
        '    - {Name: Org2, ID: Org2MSP, MSPDir: crypto/peerOrganizations/org2.example.com/msp}',
        'Chaincodes:',
        '  - {Name: asset, Version: "1.0", EndorsementPolicy: "OR(\'Org1MSP.peer\',\'Org2MSP.peer\')"}',
        '',
    ].join('\n'));
    run(weft, ['genesis', '--profile', 'profile.yaml', '--channel', CHANNEL, '--output', 'genesis.block'], dir);
    run(path.join(BUILD, 'tests', 'integration', 'endorser', 'seed_tool'),
        ['state', 'genesis.block', 'asset', 'asset1',
            '{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tomoko","Size":5}'], dir);
}

// Starts a daemon and resolves with its port once it logs "<name> listening address=...".
function startDaemon(name, exe, args) {
    const child = spawn(exe, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    return new Promise((resolve, reject) => {
        let log = '';
        child.stderr.on('data', (chunk) => {
            log += chunk;
            process.stderr.write(chunk);
            const m = new RegExp(`${name} listening address=127\\.0\\.0\\.1:(\\d+)`).exec(log);
            if (m) resolve({ child, port: Number(m[1]) });
        });
        child.on('exit', (code) => reject(new Error(`${name} exited (${code}) before listening:\n${log}`)));
    });
}

function userOf(dir, org, name) {
    const msp = path.join(dir, `crypto/peerOrganizations/org${org}.example.com/users/${name}@org${org}.example.com/msp`);
    const cert = fs.readFileSync(path.join(msp, 'signcerts', `${name}@org${org}.example.com-cert.pem`), 'utf8');
    const key = fs.readFileSync(path.join(msp, 'keystore', 'priv_sk'), 'utf8');
    return User.createUser(name, '', `Org${org}MSP`, cert, key);
}

// ---- Deliver from the orderer ----

// A signed SeekInfo envelope (DELIVER_SEEK_INFO) from start to stop, built with the SDK's
// identity context, as a Fabric client builds one.
function seekEnvelope(client, user, start, stop) {
    const idx = client.newIdentityContext(user).calculateTransactionId();
    const P = fabproto6;
    const pos = (n) => (n === 'newest' ? { newest: {} } : { specified: { number: n } });
    const seekInfo = P.orderer.SeekInfo.encode({
        start: pos(start), stop: pos(stop),
        behavior: P.orderer.SeekInfo.SeekBehavior.BLOCK_UNTIL_READY,
    }).finish();
    const now = Date.now();
    const channelHeader = P.common.ChannelHeader.encode({
        type: P.common.HeaderType.DELIVER_SEEK_INFO, version: 1, channel_id: CHANNEL,
        tx_id: idx.transactionId,
        timestamp: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1000000 },
    }).finish();
    const signatureHeader = P.common.SignatureHeader.encode({
        creator: idx.serializeIdentity(), nonce: idx.nonce,
    }).finish();
    const payload = P.common.Payload.encode({
        header: { channel_header: channelHeader, signature_header: signatureHeader }, data: seekInfo,
    }).finish();
    return P.common.Envelope.encode({ payload, signature: idx.sign(payload) }).finish();
}

// Delivers blocks start..stop and resolves with their raw bytes (as the orderer sent them).
function deliver(port, envelopeBytes) {
    const c = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const call = c.makeBidiStreamRequest('/orderer.AtomicBroadcast/Deliver', (b) => b, (b) => b);
    return new Promise((resolve, reject) => {
        const blocks = [];
        call.on('data', (buf) => {
            // DeliverResponse: block (field 2) or status (field 1); the block's own bytes are
            // taken as they came, so hashes are checked on what the orderer wrote.
            const reader = protobuf.Reader.create(buf);
            const tag = reader.uint32();
            if (tag >>> 3 === 2) {
                blocks.push(Buffer.from(reader.bytes()));
            } else {
                const status = fabproto6.orderer.DeliverResponse.decode(buf).status;
                call.end();
                c.close();
                if (status === fabproto6.common.Status.SUCCESS) resolve(blocks);
                else reject(new Error(`deliver status ${status}`));
            }
        });
        call.on('error', (e) => reject(e));
        call.write(envelopeBytes);
    });
}

// ---- block checks ----

// Fabric's BlockHeaderBytes: DER SEQUENCE{INTEGER number, OCTET STRING prev, OCTET STRING hash}.
function derLen(n) {
    if (n < 128) return Buffer.from([n]);
    const b = [];
    for (let v = n; v > 0; v >>= 8) b.unshift(v & 0xff);
    return Buffer.from([0x80 | b.length, ...b]);
}
function derInt(n) {
    let hex = BigInt(n).toString(16);
    if (hex.length % 2) hex = '0' + hex;
    let b = Buffer.from(hex, 'hex');
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([0x02]), derLen(b.length), b]);
}
function derOctets(b) {
    return Buffer.concat([Buffer.from([0x04]), derLen(b.length), b]);
}
function toNumber(v) {
    return typeof v === 'object' && v !== null ? v.toNumber() : Number(v);
}
function headerBytes(h) {
    const body = Buffer.concat([derInt(toNumber(h.number)),
        derOctets(Buffer.from(h.previous_hash)), derOctets(Buffer.from(h.data_hash))]);
    return Buffer.concat([Buffer.from([0x30]), derLen(body.length), body]);
}

function sha256(...parts) {
    const h = crypto.createHash('sha256');
    for (const p of parts) h.update(p);
    return h.digest();
}

// Checks one block against the one before it and the orderer's certificate.
function checkBlock(bytes, prev, ordererCertPem, number) {
    const B = fabproto6.common;
    const block = B.Block.decode(bytes);
    assert.equal(toNumber(block.header.number), number, 'block number');
    assert.ok(Buffer.from(block.header.data_hash).equals(sha256(...block.data.data)), `block ${number}: data hash`);
    if (prev) assert.ok(Buffer.from(block.header.previous_hash).equals(sha256(headerBytes(prev.header))),
        `block ${number}: previous hash`);
    assert.equal(block.metadata.metadata.length, 5, `block ${number}: five metadata entries`);
    const md = B.Metadata.decode(block.metadata.metadata[0]);
    assert.equal(md.signatures.length, 1, `block ${number}: one signature`);
    const sig = md.signatures[0];
    const sh = B.SignatureHeader.decode(sig.signature_header);
    const sid = fabproto6.msp.SerializedIdentity.decode(sh.creator);
    assert.equal(sid.mspid, 'OrdererMSP');
    assert.equal(Buffer.from(sh.nonce).length, 24);
    const signed = Buffer.concat([Buffer.from(md.value), Buffer.from(sig.signature_header), headerBytes(block.header)]);
    assert.ok(crypto.createVerify('SHA256').update(signed).verify(ordererCertPem, Buffer.from(sig.signature)),
        `block ${number}: orderer signature`);
    const obm = B.OrdererBlockMetadata.decode(md.value);
    const lc = B.LastConfig.decode(B.Metadata.decode(block.metadata.metadata[1]).value);
    assert.equal(toNumber(obm.last_config.index), 0, `block ${number}: last config`);
    assert.equal(toNumber(lc.index), 0, `block ${number}: LAST_CONFIG entry`);
    // Each envelope as a Fabric peer requires: equal to its Go re-marshal.
    for (const d of block.data.data)
        assert.ok(canonical('common.Envelope', d).equals(Buffer.from(d)), `block ${number}: envelope not canonical`);
    return block;
}

async function main() {
    if (!BUILD) throw new Error('WEFT_BUILD_ROOT is not set (run through meson test)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-orderer-interop-'));
    const children = [];
    try {
        makeNetwork(dir);
        const ordererMsp = path.join(dir, 'crypto/ordererOrganizations/example.com/orderers/orderer0.example.com/msp');
        const ordererCert = fs.readFileSync(path.join(ordererMsp, 'signcerts', 'orderer0.example.com-cert.pem'));
        const peerMsp = path.join(dir, 'crypto/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/msp');
        const e = await startDaemon('endorser', path.join(BUILD, 'services', 'endorser', 'endorser'), [
            '--listen', '127.0.0.1:0', '--msp-dir', peerMsp, '--mspid', 'Org1MSP',
            '--genesis', path.join(dir, 'genesis.block'), '--state-dir', path.join(dir, 'state'),
            '--state-sync=false']);
        children.push(e.child);
        const o = await startDaemon('orderer', path.join(BUILD, 'services', 'orderer', 'orderer'), [
            '--listen', '127.0.0.1:0', '--msp-dir', ordererMsp, '--mspid', 'OrdererMSP',
            '--genesis', path.join(dir, 'genesis.block'), '--data-dir', path.join(dir, 'orderer')]);
        children.push(o.child);

        const client = Client.newClient('interop');
        const endorser = client.newEndorser('peer0.org1.example.com', 'Org1MSP');
        await endorser.connect(client.newEndpoint({ url: `grpc://127.0.0.1:${e.port}` }));
        const committer = client.newCommitter('orderer0.example.com', 'OrdererMSP');
        await committer.connect(client.newEndpoint({ url: `grpc://127.0.0.1:${o.port}` }));
        const channel = client.newChannel(CHANNEL);
        const user = userOf(dir, 1, 'User1');

        // Endorse, then commit through the SDK's own Commit.send.
        const txs = [];
        for (const [id, owner] of [['asset7', 'Ann'], ['asset8', 'Bob']]) {
            const idx = client.newIdentityContext(user);
            const proposal = channel.newEndorsement('asset');
            proposal.build(idx, { fcn: 'CreateAsset', args: [id, 'pink', '3', owner, '90'] });
            proposal.sign(idx);
            const endorsed = await proposal.send({ targets: [endorser], requestTimeout: 10000 });
            assert.equal(endorsed.errors.length, 0, `endorse ${id}: ${endorsed.errors}`);
            assert.equal(endorsed.responses[0].response.status, 200);
            const commit = proposal.newCommit();
            commit.build(idx);
            commit.sign(idx);
            const result = await commit.send({ targets: [committer], requestTimeout: 10000 });
            assert.equal(result.status, 'SUCCESS', `commit ${id}: ${JSON.stringify(result)}`);
            txs.push({ txid: proposal.getTransactionId(),
                envelope: Buffer.from(fabproto6.common.Envelope.encode(commit.getSignedEnvelope()).finish()) });
        }
        console.log('ok: Commit.send of two endorsed transactions answered SUCCESS by weft\'s orderer');

        // Read the chain back: block 0 is the genesis block, block 1 holds both transactions
        // (cut by BatchTimeout), exactly the bytes the SDK sent.
        const blocks = await deliver(o.port, seekEnvelope(client, user, 0, 1));
        assert.equal(blocks.length, 2);
        assert.ok(blocks[0].equals(fs.readFileSync(path.join(dir, 'genesis.block'))), 'block 0 is the genesis block');
        const b0 = fabproto6.common.Block.decode(blocks[0]);
        const b1 = checkBlock(blocks[1], b0, ordererCert, 1);
        assert.equal(b1.data.data.length, 2);
        for (let i = 0; i < 2; i++)
            assert.ok(Buffer.from(b1.data.data[i]).equals(txs[i].envelope), `tx ${i}: envelope changed on the way`);
        const decoded = BlockDecoder.decode(blocks[1]);
        assert.deepEqual(decoded.data.data.map((d) => d.payload.header.channel_header.tx_id), txs.map((t) => t.txid));
        assert.equal(decoded.metadata.metadata[0].signatures.length, 1);
        console.log('ok: block 1 holds both transactions as sent; data hash, previous hash and orderer signature verify');

        // One more through the SDK, read with a newest..newest seek.
        const idx = client.newIdentityContext(user);
        const proposal = channel.newEndorsement('asset');
        proposal.build(idx, { fcn: 'CreateAsset', args: ['asset9', 'red', '1', 'Cy', '10'] });
        proposal.sign(idx);
        await proposal.send({ targets: [endorser], requestTimeout: 10000 });
        const commit = proposal.newCommit();
        commit.build(idx);
        commit.sign(idx);
        assert.equal((await commit.send({ targets: [committer], requestTimeout: 10000 })).status, 'SUCCESS');
        const [b2bytes] = await deliver(o.port, seekEnvelope(client, user, 2, 2));
        const b2 = checkBlock(b2bytes, b1, ordererCert, 2);
        assert.equal(BlockDecoder.decode(b2bytes).data.data[0].payload.header.channel_header.tx_id,
            proposal.getTransactionId());
        console.log('ok: the next block links to block 1 and holds the third transaction');

        endorser.disconnect();
        committer.disconnect();
    } finally {
        for (const child of children) {
            if (child.exitCode === null) {
                const exited = new Promise((resolve) => child.on('exit', resolve));
                child.kill('SIGTERM');
                await exited;
            }
        }
        fs.rmSync(dir, { recursive: true, force: true });
    }
    console.log('orderer_interop: all checks passed');
}

main().catch((e) => {
    console.error(`orderer_interop: FAILED: ${e.stack || e}`);
    process.exit(1);
});

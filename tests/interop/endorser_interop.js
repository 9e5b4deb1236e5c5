// SPDX-License-Identifier: Apache-2.0
// The real Fabric Node SDK (fabric-common 2.2.20: Client, Channel, Endorsement, no TLS) sends
// asset-transfer proposals to weft's endorser daemon and checks what comes back: the endorsement
// signature against the endorser's certificate, the proposal hash, and the rwset decoded with
// fabric-protos.
'use strict';

const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

let Client, User, fabproto6;
try {
    ({ Client, User } = require('fabric-common'));
    fabproto6 = require('fabric-protos');
} catch (e) {
    console.log(`SKIP: fabric-common is not installed (run npm ci in ${__dirname})`);
    process.exit(77);
}

const BUILD = process.env.WEFT_BUILD_ROOT;
const CHANNEL = 'mychannel';
const ASSET1 = '{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tomoko","Size":5}';

function run(exe, args, cwd) {
    return execFileSync(exe, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

// crypto + genesis with the weft tool, then one asset in the endorser's replica.
function makeNetwork(dir) {
    const weft = path.join(BUILD, 'cli', 'weft');
    run(weft, ['cryptogen', '--output', 'crypto', '--peer-orgs', '2', '--peers-per-org', '1', '--users', '1'], dir);
    fs.writeFileSync(path.join(dir, 'profile.yaml'), [
        'Orderer:',
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
        ['state', 'genesis.block', 'asset', 'asset1', ASSET1], dir);
}

// Starts the daemon on a free port and resolves with the port once it logs "endorser listening".
function startEndorser(dir) {
    const peerMsp = path.join(dir, 'crypto/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/msp');
    const child = spawn(path.join(BUILD, 'services', 'endorser', 'endorser'), [
        '--listen', '127.0.0.1:0', '--msp-dir', peerMsp, '--mspid', 'Org1MSP',
        '--genesis', path.join(dir, 'genesis.block'), '--state-dir', path.join(dir, 'state'),
        '--state-sync=false',
    ], { stdio: ['ignore', 'inherit', 'pipe'] });
    return new Promise((resolve, reject) => {
        let log = '';
        child.stderr.on('data', (chunk) => {
            log += chunk;
            process.stderr.write(chunk);
            const m = /endorser listening address=127\.0\.0\.1:(\d+)/.exec(log);
            if (m) resolve({ child, port: Number(m[1]) });
        });
        child.on('exit', (code) => reject(new Error(`endorser exited (${code}) before listening:\n${log}`)));
    });
}

function userOf(dir, org, name) {
    const msp = path.join(dir, `crypto/peerOrganizations/org${org}.example.com/users/${name}@org${org}.example.com/msp`);
    const cert = fs.readFileSync(path.join(msp, 'signcerts', `${name}@org${org}.example.com-cert.pem`), 'utf8');
    const key = fs.readFileSync(path.join(msp, 'keystore', 'priv_sk'), 'utf8');
    return User.createUser(name, '', `Org${org}MSP`, cert, key);
}

// The proposal hash as Fabric computes it, from the SDK's own proposal bytes.
function proposalHash(signedProposal) {
    const P = fabproto6.protos;
    const prop = P.Proposal.decode(signedProposal.proposal_bytes);
    const hdr = fabproto6.common.Header.decode(prop.header);
    const cpp = P.ChaincodeProposalPayload.decode(prop.payload);
    const stripped = P.ChaincodeProposalPayload.encode({ input: cpp.input }).finish();
    return crypto.createHash('sha256')
        .update(hdr.channel_header).update(hdr.signature_header).update(stripped).digest();
}

function rwsetOf(payload) {
    const prp = fabproto6.protos.ProposalResponsePayload.decode(payload);
    const action = fabproto6.protos.ChaincodeAction.decode(prp.extension);
    const tx = fabproto6.rwset.TxReadWriteSet.decode(action.results);
    const ns = {};
    for (const n of tx.ns_rwset) ns[n.namespace] = fabproto6.kvrwset.KVRWSet.decode(n.rwset);
    return { prp, action, tx, ns };
}

function versionOf(read) {
    if (!read.version) return null;
    return [Number(read.version.block_num), Number(read.version.tx_num)];
}

async function propose(client, channel, endorser, user, fcn, args) {
    const idx = client.newIdentityContext(user);
    const proposal = channel.newEndorsement('asset');
    proposal.build(idx, { fcn, args });
    proposal.sign(idx);
    const result = await proposal.send({ targets: [endorser], requestTimeout: 10000 });
    assert.equal(result.errors.length, 0, `${fcn}: errors ${result.errors}`);
    assert.equal(result.responses.length, 1, `${fcn}: one response`);
    return { response: result.responses[0], signed: proposal.getSignedProposal() };
}

// Checks an endorsed response: signature over payload ‖ endorser by the peer's certificate.
function checkEndorsement(dir, r, label) {
    assert.equal(r.response.status, 200, `${label}: status ${r.response.status} ${r.response.message}`);
    assert.equal(r.version, 1, `${label}: version`);
    assert.ok(r.endorsement, `${label}: no endorsement`);
    const sid = fabproto6.msp.SerializedIdentity.decode(r.endorsement.endorser);
    assert.equal(sid.mspid, 'Org1MSP');
    const peerCert = fs.readFileSync(path.join(dir,
        'crypto/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/msp/signcerts/peer0.org1.example.com-cert.pem'));
    assert.ok(Buffer.from(sid.id_bytes).equals(peerCert), `${label}: endorser is not peer0's certificate`);
    const signed = Buffer.concat([Buffer.from(r.payload), Buffer.from(r.endorsement.endorser)]);
    assert.ok(crypto.createVerify('SHA256').update(signed).verify(peerCert, Buffer.from(r.endorsement.signature)),
        `${label}: endorsement signature does not verify over payload ‖ endorser`);
    const payloadOnly = crypto.createVerify('SHA256').update(Buffer.from(r.payload))
        .verify(peerCert, Buffer.from(r.endorsement.signature));
    assert.equal(payloadOnly, false, `${label}: signature covers the payload alone`);
}

function checkLifecycle(rw, label) {
    const lc = rw.ns._lifecycle;
    assert.ok(lc, `${label}: no _lifecycle namespace`);
    assert.deepEqual(lc.reads.map((r) => [r.key, versionOf(r)]),
        [['namespaces/fields/asset/Sequence', [0, 0]]], `${label}: _lifecycle read`);
    assert.deepEqual(rw.tx.ns_rwset.map((n) => n.namespace), ['_lifecycle', 'asset'], `${label}: namespaces`);
}

async function main() {
    if (!BUILD) throw new Error('WEFT_BUILD_ROOT is not set (run through meson test)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-endorser-interop-'));
    let child = null;
    try {
        makeNetwork(dir);
        const started = await startEndorser(dir);
        child = started.child;

        const client = Client.newClient('interop');
        const endorser = client.newEndorser('peer0.org1.example.com', 'Org1MSP');
        await endorser.connect(client.newEndpoint({ url: `grpc://127.0.0.1:${started.port}` }));
        const channel = client.newChannel(CHANNEL);
        const user = userOf(dir, 1, 'User1');

        // CreateAsset of a new asset: read without version, one write.
        let { response, signed } = await propose(client, channel, endorser, user, 'CreateAsset',
            ['asset7', 'pink', '3', 'Ann', '90']);
        checkEndorsement(dir, response, 'CreateAsset');
        let rw = rwsetOf(response.payload);
        assert.ok(Buffer.from(rw.prp.proposal_hash).equals(proposalHash(signed)), 'CreateAsset: proposal hash');
        assert.equal(rw.action.chaincode_id.name, 'asset');
        assert.equal(rw.action.chaincode_id.version, '1.0');
        assert.equal(rw.action.response.status, 200);
        checkLifecycle(rw, 'CreateAsset');
        assert.deepEqual(rw.ns.asset.reads.map((r) => [r.key, versionOf(r)]), [['asset7', null]]);
        assert.equal(rw.ns.asset.writes.length, 1);
        assert.equal(rw.ns.asset.writes[0].key, 'asset7');
        assert.equal(rw.ns.asset.writes[0].is_delete, false);
        assert.deepEqual(JSON.parse(Buffer.from(rw.ns.asset.writes[0].value).toString()),
            { AppraisedValue: 90, Color: 'pink', ID: 'asset7', Owner: 'Ann', Size: 3 });
        console.log('ok: CreateAsset endorsed; signature, proposal hash and rwset check out');

        // ReadAsset of the seeded asset: its JSON back, a read at version (1, 0), no writes.
        ({ response, signed } = await propose(client, channel, endorser, user, 'ReadAsset', ['asset1']));
        checkEndorsement(dir, response, 'ReadAsset');
        assert.equal(Buffer.from(response.response.payload).toString(), ASSET1);
        rw = rwsetOf(response.payload);
        assert.ok(Buffer.from(rw.prp.proposal_hash).equals(proposalHash(signed)), 'ReadAsset: proposal hash');
        checkLifecycle(rw, 'ReadAsset');
        assert.deepEqual(rw.ns.asset.reads.map((r) => [r.key, versionOf(r)]), [['asset1', [1, 0]]]);
        assert.equal(rw.ns.asset.writes.length, 0);
        assert.equal(Buffer.from(rw.action.response.payload).toString(), ASSET1);
        console.log('ok: ReadAsset endorsed with the stored asset and its version');

        // An Org2 client is a writer of the channel too.
        ({ response } = await propose(client, channel, endorser, userOf(dir, 2, 'User1'), 'AssetExists', ['asset1']));
        checkEndorsement(dir, response, 'AssetExists');
        assert.equal(Buffer.from(response.response.payload).toString(), 'true');

        // A chaincode error comes back as status 500 with the contract's message, unendorsed.
        ({ response } = await propose(client, channel, endorser, user, 'ReadAsset', ['nope']));
        assert.equal(response.response.status, 500);
        assert.equal(response.response.message, 'the asset nope does not exist');
        assert.ok(!response.endorsement, 'an error was endorsed');
        ({ response } = await propose(client, channel, endorser, user, 'CreateAsset',
            ['asset1', 'blue', '5', 'Tomoko', '300']));
        assert.equal(response.response.status, 500);
        assert.equal(response.response.message, 'the asset asset1 already exists');
        console.log('ok: chaincode errors reach the SDK as status 500 without an endorsement');

        endorser.disconnect();
    } finally {
        if (child && child.exitCode === null) {
            const exited = new Promise((resolve) => child.on('exit', resolve));
            child.kill('SIGTERM');
            await exited;
        }
        fs.rmSync(dir, { recursive: true, force: true });
    }
    console.log('endorser_interop: all checks passed');
}

main().catch((e) => {
    console.error(`endorser_interop: FAILED: ${e.stack || e}`);
    process.exit(1);
});

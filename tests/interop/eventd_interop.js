// SPDX-License-Identifier: Apache-2.0
// The real Fabric Node SDK (fabric-common 2.2.20, no TLS) listens on weft's eventd: a transaction
// endorsed by weft's endorser and ordered by weft's orderer is committed by weft's committer,
// and fabric-common's EventService sees it, filtered and as a whole block, with status VALID.
'use strict';

const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
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

// Resolves with the first transaction event for txid on a fresh EventService (blockType).
async function txEvent(client, channel, eventer, user, txid, blockType) {
    const es = channel.newEventService(`es-${blockType}`);
    const idx = client.newIdentityContext(user);
    es.build(idx, { startBlock: 0, blockType });
    es.sign(idx);
    const got = new Promise((resolve, reject) => {
        es.registerTransactionListener(txid, (err, ev) => (err ? reject(err) : resolve(ev)),
            { unregister: true });
    });
    await es.send({ targets: [eventer], requestTimeout: 10000 });
    const ev = await got;
    es.close();
    return ev;
}

async function main() {
    if (!BUILD) throw new Error('WEFT_BUILD_ROOT is not set (run through meson test)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-eventd-interop-'));
    const children = [];
    try {
        makeNetwork(dir);
        const genesis = path.join(dir, 'genesis.block');
        const ordererMsp = path.join(dir, 'crypto/ordererOrganizations/example.com/orderers/orderer0.example.com/msp');
        const peerMsp = path.join(dir, 'crypto/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/msp');
        const e = await startDaemon('endorser', path.join(BUILD, 'services', 'endorser', 'endorser'), [
            '--listen', '127.0.0.1:0', '--msp-dir', peerMsp, '--mspid', 'Org1MSP',
            '--genesis', genesis, '--state-dir', path.join(dir, 'state'), '--state-sync=false']);
        children.push(e.child);
        const o = await startDaemon('orderer', path.join(BUILD, 'services', 'orderer', 'orderer'), [
            '--listen', '127.0.0.1:0', '--msp-dir', ordererMsp, '--mspid', 'OrdererMSP',
            '--genesis', genesis, '--data-dir', path.join(dir, 'orderer')]);
        children.push(o.child);
        const c = await startDaemon('committer', path.join(BUILD, 'services', 'committer', 'committer'), [
            '--listen', '127.0.0.1:0', '--msp-dir', peerMsp, '--mspid', 'Org1MSP',
            '--genesis', genesis, '--data-dir', path.join(dir, 'committer'),
            '--orderer', `127.0.0.1:${o.port}`, '--sync=false']);
        children.push(c.child);
        const ev = await startDaemon('eventd', path.join(BUILD, 'services', 'eventd', 'eventd'), [
            '--listen', '127.0.0.1:0', '--committer', `127.0.0.1:${c.port}`, '--genesis', genesis]);
        children.push(ev.child);

        const client = Client.newClient('interop');
        const endorser = client.newEndorser('peer0.org1.example.com', 'Org1MSP');
        await endorser.connect(client.newEndpoint({ url: `grpc://127.0.0.1:${e.port}` }));
        const committer = client.newCommitter('orderer0.example.com', 'OrdererMSP');
        await committer.connect(client.newEndpoint({ url: `grpc://127.0.0.1:${o.port}` }));
        const eventer = client.newEventer('eventd');
        await eventer.connect(client.newEndpoint({ url: `grpc://127.0.0.1:${ev.port}` }));
        const channel = client.newChannel(CHANNEL);
        const user = userOf(dir, 1, 'User1');

        const idx = client.newIdentityContext(user);
        const proposal = channel.newEndorsement('asset');
        proposal.build(idx, { fcn: 'CreateAsset', args: ['asset7', 'pink', '3', 'Ann', '90'] });
        proposal.sign(idx);
        const endorsed = await proposal.send({ targets: [endorser], requestTimeout: 10000 });
        assert.equal(endorsed.errors.length, 0, `endorse: ${endorsed.errors}`);
        const commit = proposal.newCommit();
        commit.build(idx);
        commit.sign(idx);
        assert.equal((await commit.send({ targets: [committer], requestTimeout: 10000 })).status, 'SUCCESS');
        const txid = proposal.getTransactionId();

        const f = await txEvent(client, channel, eventer, user, txid, 'filtered');
        assert.equal(f.status, 'VALID');
        assert.equal(Number(f.blockNumber), 1);
        assert.equal(f.filteredBlock.channel_id, CHANNEL);
        console.log('ok: filtered event: VALID in block 1');
        const w = await txEvent(client, channel, eventer, user, txid, 'full');
        assert.equal(w.status, 'VALID');
        assert.equal(Number(w.blockNumber), 1);
        assert.ok(w.block, 'the full block comes with the event');
        assert.equal(w.block.data.data[0].payload.header.channel_header.tx_id, txid);
        console.log('ok: full block event: VALID in block 1, decoded by BlockDecoder');

        eventer.disconnect();
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
    console.log('eventd_interop: all checks passed');
}

main().catch((e) => {
    console.error(`eventd_interop: FAILED: ${e.stack || e}`);
    process.exit(1);
});

// SPDX-License-Identifier: Apache-2.0
// Encodes Fabric messages with fabric-protos (the Node SDK's protobufjs types), has weft's
// protobuf-c code decode and re-encode them (proposal_tool roundtrip), and compares the bytes.
'use strict';

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { protobuf, canonical } = require('./fabric_root.js');
const fabproto6 = require('fabric-protos');

const TOOL = process.env.PROPOSAL_TOOL;
const C = fabproto6.common;
const P = fabproto6.protos;
const O = fabproto6.orderer;
const K = fabproto6.kvrwset;
const R = fabproto6.rwset;
const M = fabproto6.msp;
const Long = protobuf.util.Long;

const b = (s) => Buffer.from(s);
const h32 = (c) => Buffer.alloc(32, c);

function samples() {
    const kvrwset = K.KVRWSet.encode({
        reads: [{ key: 'a', version: { block_num: 0, tx_num: 0 } }, { key: 'b' }],
        range_queries_info: [{
            start_key: 'a', end_key: 'z', itr_exhausted: true,
            raw_reads: { kv_reads: [{ key: 'b', version: { block_num: 3, tx_num: 1 } }] },
        }],
        writes: [{ key: 'a', value: b('{"color":"blue"}') }, { key: 'c', is_delete: true }],
    }).finish();
    const role = C.MSPRole.encode({ msp_identifier: 'Org1MSP', role: C.MSPRole.MSPRoleType.MEMBER }).finish();
    const group = (mod) => ({ version: 0, mod_policy: mod });
    return [
        ['common.Envelope', C.Envelope, { payload: b('payload'), signature: b('sig') }],
        ['common.Payload', C.Payload, { header: { channel_header: b('ch'), signature_header: b('sh') }, data: b('d') }],
        ['common.Block', C.Block, {
            header: { number: 7, previous_hash: h32(1), data_hash: h32(2) },
            data: { data: [b('tx0'), b('tx1')] },
            metadata: { metadata: [b(''), b('x'), b(''), Buffer.from([254, 0]), b('')] },
        }],
        // number 0 written explicitly by protobufjs: Go and protobuf-c leave it out
        ['common.BlockHeader', C.BlockHeader, { number: 0, previous_hash: b(''), data_hash: h32(3) }],
        ['common.Metadata', C.Metadata, { value: b('v'), signatures: [{ signature_header: b('sh'), signature: b('s') }] }],
        ['common.LastConfig', C.LastConfig, { index: 0 }],
        ['common.OrdererBlockMetadata', C.OrdererBlockMetadata, { last_config: {} }],
        ['common.ConfigEnvelope', C.ConfigEnvelope, {
            config: {
                sequence: 0,
                channel_group: {
                    groups: { Application: group('Admins'), Orderer: group('Admins') },
                    values: { HashingAlgorithm: { version: 0, value: C.HashingAlgorithm.encode({ name: 'SHA256' }).finish(), mod_policy: 'Admins' } },
                    policies: { Admins: { version: 0, policy: { type: 3, value: C.ImplicitMetaPolicy.encode({ sub_policy: 'Admins', rule: 2 }).finish() }, mod_policy: 'Admins' } },
                    mod_policy: 'Admins',
                },
            },
        }],
        ['common.ConfigUpdateEnvelope', C.ConfigUpdateEnvelope, { config_update: b('cu'), signatures: [{ signature_header: b('h'), signature: b('s') }] }],
        // signed_by 0 is a oneof member: written even though it is zero
        ['common.SignaturePolicyEnvelope', C.SignaturePolicyEnvelope, {
            version: 0,
            rule: { n_out_of: { n: 1, rules: [{ signed_by: 0 }, { signed_by: 1 }] } },
            identities: [{ principal_classification: 0, principal: role }, { principal_classification: 0, principal: role }],
        }],
        ['common.ImplicitMetaPolicy', C.ImplicitMetaPolicy, { sub_policy: 'Writers', rule: C.ImplicitMetaPolicy.Rule.ANY }],
        ['msp.SerializedIdentity', M.SerializedIdentity, { mspid: 'Org1MSP', id_bytes: b('-----BEGIN CERTIFICATE-----\n') }],
        ['msp.FabricMSPConfig', M.FabricMSPConfig, {
            name: 'Org1MSP', root_certs: [b('root')], crypto_config: { signature_hash_family: 'SHA2', identity_identifier_hash_function: 'SHA256' },
            fabric_node_ous: { enable: true, client_ou_identifier: { organizational_unit_identifier: 'client' } },
        }],
        ['orderer.SeekInfo', O.SeekInfo, {
            start: { newest: {} },
            stop: { specified: { number: Long.fromString('9223372036854775807', true) } },
            behavior: O.SeekInfo.SeekBehavior.FAIL_IF_NOT_READY,
        }],
        ['orderer.SeekInfo', O.SeekInfo, { start: { oldest: {} }, stop: { specified: { number: 0 } } }],
        ['orderer.BroadcastResponse', O.BroadcastResponse, { status: C.Status.SUCCESS, info: '' }],
        ['orderer.DeliverResponse', O.DeliverResponse, { status: C.Status.NOT_FOUND }],
        ['orderer.KafkaMessage', O.KafkaMessage, { connect: {} }],
        ['orderer.KafkaMessage', O.KafkaMessage, { regular: { payload: b('env'), config_seq: 2, class: 1, original_offset: 0 } }],
        ['orderer.KafkaMetadata', O.KafkaMetadata, { last_offset_persisted: 41, last_original_offset_processed: 0, last_resubmitted_config_offset: 0 }],
        ['orderer.BatchSize', O.BatchSize, { max_message_count: 10, absolute_max_bytes: 103809024, preferred_max_bytes: 524288 }],
        ['protos.ProposalResponse', P.ProposalResponse, {
            version: 1, response: { status: 200, message: '', payload: b('result') }, payload: b('prp'),
            endorsement: { endorser: b('peer0'), signature: b('sig') },
        }],
        ['protos.ProposalResponsePayload', P.ProposalResponsePayload, { proposal_hash: h32(4), extension: b('ext') }],
        ['protos.ChaincodeAction', P.ChaincodeAction, {
            results: b('rw'), response: { status: 200, payload: b('ok') }, chaincode_id: { name: 'basic', version: '1.0' },
        }],
        ['protos.Transaction', P.Transaction, { actions: [{ header: b('sh'), payload: b('cap') }] }],
        ['protos.ChaincodeActionPayload', P.ChaincodeActionPayload, {
            chaincode_proposal_payload: b('cpp'),
            action: { proposal_response_payload: b('prp'), endorsements: [{ endorser: b('e1'), signature: b('s1') }, { endorser: b('e2'), signature: b('s2') }] },
        }],
        ['protos.DeliverResponse', P.DeliverResponse, {
            filtered_block: {
                channel_id: 'mychannel', number: 5,
                filtered_transactions: [
                    { txid: 'a'.repeat(64), type: 3, tx_validation_code: 0, transaction_actions: {} },
                    { txid: 'b'.repeat(64), type: 3, tx_validation_code: 11, transaction_actions: { chaincode_actions: [{ chaincode_event: { chaincode_id: 'basic', tx_id: 'b'.repeat(64), event_name: 'Created' } }] } },
                ],
            },
        }],
        ['protos.DeliverResponse', P.DeliverResponse, { status: C.Status.SUCCESS }],
        ['rwset.TxReadWriteSet', R.TxReadWriteSet, { data_model: 0, ns_rwset: [{ namespace: '_lifecycle', rwset: b('') }, { namespace: 'basic', rwset: kvrwset }] }],
        ['kvrwset.KVRWSet', K.KVRWSet, K.KVRWSet.decode(kvrwset)],
    ];
}

function main() {
    if (!TOOL) throw new Error('PROPOSAL_TOOL is not set (run through meson test)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-roundtrip-'));
    try {
        const list = samples();
        const args = ['roundtrip'];
        const raw = [];
        list.forEach(([typeName, T, obj], i) => {
            const err = T.verify(obj);
            assert.equal(err, null, `${typeName} sample: ${err}`);
            const bytes = Buffer.from(T.encode(obj).finish());
            const file = path.join(dir, `${i}.bin`);
            fs.writeFileSync(file, bytes);
            raw.push(bytes);
            args.push(typeName, file);
        });
        const out = JSON.parse(execFileSync(TOOL, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
        assert.equal(out.length, list.length);
        const notIdentical = [];
        out.forEach((r, i) => {
            const [typeName, T] = list[i];
            const canon = canonical(typeName, raw[i]);
            assert.equal(r.type, typeName);
            assert.equal(r.reencoded, canon.toString('hex'), `${typeName} #${i}: protobuf-c re-encode is not Go-canonical`);
            assert.equal(r.identical, canon.equals(raw[i]), `${typeName} #${i}: identical flag`);
            // and the Node SDK reads protobuf-c's bytes back as the same message
            const opts = { longs: String, bytes: String, defaults: true };
            assert.deepEqual(T.toObject(T.decode(Buffer.from(r.reencoded, 'hex')), opts), T.toObject(T.decode(raw[i]), opts),
                `${typeName} #${i}: decodes differently`);
            if (!r.identical) notIdentical.push(`${typeName} #${i}`);
        });
        console.log(`roundtrip: ${out.length} messages re-encoded by protobuf-c; byte-identical except where ` +
            `protobufjs wrote explicit zero values: ${notIdentical.join(', ') || 'none'}`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

try {
    main();
} catch (e) {
    console.error(`roundtrip: FAILED: ${e.stack || e}`);
    process.exit(1);
}

// SPDX-License-Identifier: Apache-2.0
// Checks that weft's .proto files define Fabric's messages, enums and services exactly as the
// fabric-protos npm package (the Node SDK's own copy) does: names, numbers, types, labels, oneofs.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const here = __dirname;
const { protobuf, fabricProtosDir, listProtos, load, loadFabric } = require('./fabric_root.js');

const CHECKED = ['common', 'msp', 'protos', 'rwset', 'kvrwset', 'orderer'];

// Every message, enum and service under the checked packages, by fully-qualified name.
function collect(ns, out = new Map()) {
    for (const obj of ns.nestedArray) {
        const fqn = obj.fullName.replace(/^\./, '');
        const pkg = fqn.split('.')[0];
        if (!CHECKED.includes(pkg)) {
            if (obj instanceof protobuf.Namespace && !(obj instanceof protobuf.Type)) collect(obj, out);
            continue;
        }
        if (obj instanceof protobuf.Type || obj instanceof protobuf.Enum || obj instanceof protobuf.Service) {
            out.set(fqn, obj);
        }
        if (obj instanceof protobuf.Namespace) collect(obj, out); // packages and nested types
    }
    return out;
}

function kind(obj) {
    if (obj instanceof protobuf.Type) return 'message';
    if (obj instanceof protobuf.Enum) return 'enum';
    if (obj instanceof protobuf.Service) return 'service';
    return 'other';
}

function fieldShape(f) {
    const type = f.resolvedType ? f.resolvedType.fullName.replace(/^\./, '') : f.type;
    const label = f.map ? `map<${f.keyType}, ${type}>` : `${f.repeated ? 'repeated ' : ''}${type}`;
    return {
        id: f.id,
        label,
        oneof: f.partOf ? f.partOf.name : '',
        packed: f.repeated && !f.map && protobuf.types.packed[f.type] !== undefined ? String(f.packed) : '',
    };
}

function compareMessage(name, ours, theirs, diffs) {
    const of = new Map(ours.fieldsArray.map((f) => [f.name, f]));
    const tf = new Map(theirs.fieldsArray.map((f) => [f.name, f]));
    for (const [fname, f] of of) {
        const t = tf.get(fname);
        if (!t) {
            diffs.push(`${name}.${fname}: field not in Fabric's message`);
            continue;
        }
        const a = fieldShape(f);
        const b = fieldShape(t);
        for (const k of Object.keys(a)) {
            if (a[k] !== b[k]) diffs.push(`${name}.${fname}: ${k} is ${JSON.stringify(a[k])}, Fabric has ${JSON.stringify(b[k])}`);
        }
    }
    for (const fname of tf.keys()) {
        if (!of.has(fname)) diffs.push(`${name}.${fname}: Fabric's field (number ${tf.get(fname).id}) is missing`);
    }
    const oo = Object.keys(ours.oneofs || {}).sort().join(',');
    const to = Object.keys(theirs.oneofs || {}).sort().join(',');
    if (oo !== to) diffs.push(`${name}: oneofs [${oo}], Fabric has [${to}]`);
}

function compareEnum(name, ours, theirs, diffs) {
    for (const [v, n] of Object.entries(ours.values)) {
        if (!(v in theirs.values)) diffs.push(`${name}.${v}: value not in Fabric's enum`);
        else if (theirs.values[v] !== n) diffs.push(`${name}.${v}: is ${n}, Fabric has ${theirs.values[v]}`);
    }
    for (const [v, n] of Object.entries(theirs.values)) {
        if (!(v in ours.values)) diffs.push(`${name}.${v}: Fabric's value ${n} is missing`);
    }
}

function methodShape(service, m) {
    const pkgService = service.fullName.replace(/^\./, '');
    return {
        path: `/${pkgService}/${m.name}`,
        request: m.resolvedRequestType.fullName.replace(/^\./, ''),
        response: m.resolvedResponseType.fullName.replace(/^\./, ''),
        requestStream: !!m.requestStream,
        responseStream: !!m.responseStream,
    };
}

function compareService(name, ours, theirs, diffs) {
    const tm = new Map(theirs.methodsArray.map((m) => [m.name, m]));
    for (const m of ours.methodsArray) {
        const t = tm.get(m.name);
        const a = methodShape(ours, m);
        if (!t) {
            diffs.push(`${a.path}: method not in Fabric's service`);
            continue;
        }
        const b = methodShape(theirs, t);
        for (const k of Object.keys(a)) {
            if (a[k] !== b[k]) diffs.push(`${a.path}: ${k} is ${JSON.stringify(a[k])}, Fabric has ${JSON.stringify(b[k])}`);
        }
    }
    // A method we leave out is one the SDK could call and get UNIMPLEMENTED for: list it.
    const om = new Set(ours.methodsArray.map((m) => m.name));
    for (const m of theirs.methodsArray) {
        if (!om.has(m.name)) diffs.push(`/${name}/${m.name}: Fabric's method is missing`);
    }
}

function main() {
    const srcRoot = process.env.WEFT_SOURCE_ROOT || path.resolve(here, '..', '..');
    const ourDir = path.join(srcRoot, 'proto');
    const ourFiles = listProtos(ourDir).filter((f) => !f.startsWith(path.join(ourDir, 'weft') + path.sep));
    const diffs = [];
    for (const f of ourFiles) {
        if (!/^\s*syntax\s*=\s*"proto3"\s*;/m.test(fs.readFileSync(f, 'utf8'))) {
            diffs.push(`${path.relative(ourDir, f)}: not proto3`);
        }
    }
    const ours = collect(load(ourFiles, [ourDir]));
    const theirs = collect(loadFabric());

    let counts = { message: 0, enum: 0, service: 0 };
    for (const [name, o] of [...ours].sort()) {
        const t = theirs.get(name);
        const k = kind(o);
        counts[k]++;
        if (!t) {
            diffs.push(`${name}: ${k} not defined by Fabric`);
            continue;
        }
        if (kind(t) !== k) {
            diffs.push(`${name}: ours is a ${k}, Fabric's is a ${kind(t)}`);
            continue;
        }
        if (k === 'message') compareMessage(name, o, t, diffs);
        else if (k === 'enum') compareEnum(name, o, t, diffs);
        else compareService(name, o, t, diffs);
    }
    if (counts.message < 50) diffs.push(`only ${counts.message} messages found under ${ourDir}: wrong path?`);
    console.log(`check_protos: compared ${counts.message} messages, ${counts.enum} enums, ` +
        `${counts.service} services from ${ourFiles.length} files with fabric-protos ` +
        `${require(path.join(fabricProtosDir, 'package.json')).version}`);
    if (diffs.length) {
        console.error(`check_protos: ${diffs.length} difference(s) from Fabric:`);
        for (const d of diffs) console.error(`  ${d}`);
        process.exit(1);
    }
    console.log('check_protos: no differences');
}

main();

// SPDX-License-Identifier: Apache-2.0
// Loads .proto trees with the protobufjs that fabric-protos itself uses, for reflection (field
// lists, oneofs) that fabric-protos' static bundle does not carry, and gives the Go-canonical form
// of protobufjs-encoded bytes. Exits 77 (meson's SKIP) when the npm packages are not installed.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

let fabricProtosDir;
try {
    fabricProtosDir = path.dirname(require.resolve('fabric-protos/package.json', { paths: [__dirname] }));
} catch (e) {
    console.log(`SKIP: fabric-protos is not installed (run npm ci in ${__dirname})`);
    process.exit(77);
}
const protobuf = require(require.resolve('protobufjs', { paths: [fabricProtosDir] }));

function listProtos(dir) {
    const out = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) out.push(...listProtos(p));
        else if (e.name.endsWith('.proto')) out.push(p);
    }
    return out.sort();
}

// Loads files with imports resolved against includeDirs, the way protoc -I would.
function load(files, includeDirs) {
    const root = new protobuf.Root();
    root.resolvePath = (origin, target) => {
        if (path.isAbsolute(target) && fs.existsSync(target)) return target;
        for (const d of includeDirs) {
            const p = path.join(d, target);
            if (fs.existsSync(p)) return p;
        }
        return null; // protobufjs reports the missing import
    };
    root.loadSync(files, { keepCase: true });
    root.resolveAll();
    return root;
}

// Fabric's own .proto files as shipped in fabric-protos.
function loadFabric() {
    const dirs = [path.join(fabricProtosDir, 'protos'), path.join(fabricProtosDir, 'google-protos')];
    return load(listProtos(dirs[0]), dirs);
}

// ---- Go-canonical form of protobufjs bytes ----
// protobufjs writes every field that was set, even "" or 0 (the SDK sets ChaincodeID.path and
// version to ""); Go and protobuf-c leave zero values out. canonical() drops them (but keeps oneof
// members and set sub-messages, as Go does), giving what a faithful protobuf-c re-encode must
// produce.
let fabricRoot = null;

function isZero(v) {
    if (v === '' || v === false || v === 0) return true;
    if (v instanceof Uint8Array) return v.length === 0;
    if (protobuf.util.Long && protobuf.util.Long.isLong(v)) return v.isZero();
    return false;
}

function strip(msg, type) {
    for (const f of type.fieldsArray) {
        if (!Object.prototype.hasOwnProperty.call(msg, f.name)) continue;
        const v = msg[f.name];
        const sub = f.resolvedType instanceof protobuf.Type ? f.resolvedType : null;
        if (f.map) {
            if (sub) for (const k of Object.keys(v)) strip(v[k], sub);
        } else if (f.repeated) {
            if (sub) for (const e of v) strip(e, sub);
        } else if (sub) {
            strip(v, sub);
        } else if (!f.partOf && isZero(v)) {
            delete msg[f.name];
        }
    }
    return msg;
}

// bytes (a typeName message encoded by anyone) re-encoded without explicit zero values.
function canonical(typeName, bytes) {
    if (!fabricRoot) fabricRoot = loadFabric();
    const t = fabricRoot.lookupType(typeName);
    return Buffer.from(t.encode(strip(t.decode(bytes), t)).finish());
}

module.exports = { protobuf, fabricProtosDir, listProtos, load, loadFabric, canonical };

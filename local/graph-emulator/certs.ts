/**
 * Generates the emulator's TLS material: a throw-away CA and a leaf certificate for
 * `127.0.0.1` / `localhost` signed by it.
 */
import { generate } from "selfsigned";

/** PEM material for the https server and its clients. */
export interface TlsMaterial {
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

const cache = new Map<string, Promise<TlsMaterial>>();

/**
 * Creates a CA and a server certificate (EC P-256), once per host and process: emulators started
 * by one process share them, which keeps test suites fast and changes nothing for clients.
 *
 * @param host - host the server listens on, added to the SAN when it is not loopback
 * @returns the PEMs
 */
export function createTlsMaterial(host: string): Promise<TlsMaterial> {
  let material = cache.get(host);
  if (!material) {
    material = generateTlsMaterial(host);
    cache.set(host, material);
    material.catch(() => cache.delete(host));
  }
  return material;
}

async function generateTlsMaterial(host: string): Promise<TlsMaterial> {
  const notAfterDate = new Date(Date.now() + 30 * 24 * 3600 * 1000);
  const ca = await generate([{ name: "commonName", value: "mfa-prepopulate Graph emulator CA" }], {
    keyType: "ec",
    algorithm: "sha256",
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      {
        name: "keyUsage",
        keyCertSign: true,
        cRLSign: true,
        digitalSignature: true,
        critical: true,
      },
    ],
  });
  const altNames: { type: 2 | 7; value?: string; ip?: string }[] = [
    { type: 2, value: "localhost" },
    { type: 7, ip: "127.0.0.1" },
  ];
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) && host !== "127.0.0.1" && host !== "0.0.0.0") {
    altNames.push({ type: 7, ip: host });
  } else if (!/^[\d.:]+$/.test(host) && host !== "localhost") {
    altNames.push({ type: 2, value: host });
  }
  const leaf = await generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    algorithm: "sha256",
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames },
    ],
  });
  return { caCertPem: ca.cert, certPem: leaf.cert, keyPem: leaf.private };
}

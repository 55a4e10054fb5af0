// Validates Strimzi resources (a JSON array on stdin) against the schemas that
// @kubernetes-models/strimzi-kafka-operator compiles from Strimzi's published CRDs.
// Prints one line per invalid resource; exits 1 if any.
import { readFileSync } from "node:fs";

const docs = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
for (const doc of docs) {
  const [group, version] = doc.apiVersion.split("/");
  let Model;
  try {
    ({ [doc.kind]: Model } = await import(
      `@kubernetes-models/strimzi-kafka-operator/${group}/${version}/${doc.kind}`));
  } catch (error) {
    console.log(`${doc.kind}/${doc.metadata?.name}: no schema for ${doc.apiVersion} ${doc.kind}`);
    failed++;
    continue;
  }
  try {
    new Model(doc).validate();
  } catch (error) {
    console.log(`${doc.kind}/${doc.metadata?.name}: ${error.message}`);
    failed++;
  }
}
console.log(`strimzi: ${docs.length - failed} valid, ${failed} invalid`);
process.exit(failed ? 1 : 0);

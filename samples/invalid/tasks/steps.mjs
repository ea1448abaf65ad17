// Step functions used by the fn stages of the invalid samples; the samples
// are meant to fail validation for other reasons, never because this is missing.
export async function summarize() {}
export async function plot() {}
export default async function step() {}

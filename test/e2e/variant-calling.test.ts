/**
 * Issue 13 with real tools: the classic variant-calling pipeline (bwa index
 * and mem, samtools sort and index, bcftools mpileup and call over every
 * sample) as a new user writes it (test/fixtures/variant-calling/), run by
 * the built CLI with Debian's bwa, samtools and bcftools on a small genome
 * and reads made here, deterministically, with a few planted SNPs.
 *
 * What a user would notice: wfc's VCF is the one the same commands give by
 * hand in bash; the planted SNPs are called; a second run does nothing; a
 * truncated FASTQ fails the run (strict bash: the pipe's bwa fails) instead
 * of calling variants on part of the reads; a sample without its FASTQ is
 * reported before anything runs.
 *
 * Without the tools the tests skip with a message; on CI (see .ci/run, which
 * installs them) a missing tool is a failure.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { execa } from "execa";
import { beforeAll, describe, expect, test } from "vitest";
import { repoRoot, wfc } from "./helpers.js";

const TOOLS = ["bwa", "samtools", "bcftools"] as const;
const WORKFLOW = join(repoRoot, "test/fixtures/variant-calling/workflow.yaml");
const SAMPLES = ["A", "B", "C"] as const;

/** Each sample's SNPs (1-based positions on chr1), homozygous; 3003 is shared by A and B. */
const PLANTED: Record<(typeof SAMPLES)[number], readonly number[]> = { A: [1001, 3003], B: [2002, 3003], C: [4004] };
const GENOME_LENGTH = 5000;
const READS = 1500; // 100 bp each: about 30× coverage
const READ_LENGTH = 100;

/** The same commands as the workflow's, by hand, in the order a user would type them. */
const BY_HAND = `set -euo pipefail
bwa index data/genome.fa 2> /dev/null
samtools faidx data/genome.fa
mkdir -p mapped_reads sorted_reads calls
for s in ${SAMPLES.join(" ")}; do
  bwa mem -t 2 data/genome.fa data/samples/$s.fastq.gz 2> /dev/null | samtools view -b - > mapped_reads/$s.bam
  samtools sort -T sorted_reads/$s -O bam mapped_reads/$s.bam > sorted_reads/$s.bam
  samtools index sorted_reads/$s.bam
done
bcftools mpileup -f data/genome.fa ${SAMPLES.map((s) => `sorted_reads/${s}.bam`).join(" ")} | bcftools call -mv - > calls/all.vcf
`;

let missingTools: string[] = [];
beforeAll(() => {
  missingTools = TOOLS.filter((tool) => {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
  if (missingTools.length > 0 && !onCi()) console.warn(`test/e2e/variant-calling: ${noTools()}`);
});

const noTools = () =>
  `${missingTools.join(", ")} not installed (apt-get install bwa samtools bcftools); the variant-calling tests are skipped`;

/** Whether we run on CI: `CI` set to anything but "", "0" or "false" (as test/slurm/cluster.ts reads it). */
function onCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && !["", "0", "false"].includes(ci.toLowerCase());
}

/** Skips a test for want of the tools, with the reason, except on CI, where that is a failure. */
function needTools(skip: (note: string) => never): void {
  if (missingTools.length === 0) return;
  if (onCi()) throw new Error(`${missingTools.join(", ")} not installed; on CI they must be (see .ci/run)`);
  skip(noTools());
}

/** A deterministic pseudo-random generator (an LCG), so every run sees the same genome and reads. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

const TRANSITION: Record<string, string> = { A: "G", G: "A", C: "T", T: "C" };
const COMPLEMENT: Record<string, string> = { A: "T", C: "G", G: "C", T: "A" };

/** chr1 of the reference, the planted alleles (REF → ALT) by position, and each sample's gzipped FASTQ. */
function makeData() {
  const random = lcg(13);
  const genome = Array.from({ length: GENOME_LENGTH }, () => "ACGT"[Math.floor(random() * 4)]!).join("");
  const fasta = `>chr1\n${genome.match(/.{1,60}/g)!.join("\n")}\n`;
  const fastq = new Map<string, Buffer>();
  for (const sample of SAMPLES) {
    const bases = [...genome];
    for (const pos of PLANTED[sample]) bases[pos - 1] = TRANSITION[bases[pos - 1]!]!;
    const own = bases.join("");
    const lines: string[] = [];
    for (let i = 0; i < READS; i++) {
      const start = Math.floor(random() * (GENOME_LENGTH - READ_LENGTH));
      let read = own.slice(start, start + READ_LENGTH);
      if (random() < 0.5)
        read = [...read]
          .reverse()
          .map((b) => COMPLEMENT[b]!)
          .join("");
      lines.push(`@${sample}_${i}`, read, "+", "I".repeat(READ_LENGTH));
    }
    fastq.set(sample, gzipSync(lines.join("\n") + "\n"));
  }
  const alleles = new Map(Object.values(PLANTED).flatMap((ps) => ps.map((p) => [p, `${genome[p - 1]}>${TRANSITION[genome[p - 1]!]}`])));
  return { fasta, fastq, alleles };
}

const data = makeData();

/** A fresh folder with the data (and, for wfc, the workflow), as a user has it before the first run. */
function project(options: { workflow: boolean; fastq?: (sample: string, gz: Buffer) => Buffer | undefined }): string {
  const dir = mkdtempSync(join(tmpdir(), "wfc-variant-calling-"));
  mkdirSync(join(dir, "data/samples"), { recursive: true });
  writeFileSync(join(dir, "data/genome.fa"), data.fasta);
  for (const [sample, gz] of data.fastq) {
    const content = options.fastq ? options.fastq(sample, gz) : gz;
    if (content !== undefined) writeFileSync(join(dir, `data/samples/${sample}.fastq.gz`), content);
  }
  if (options.workflow) cpSync(WORKFLOW, join(dir, "workflow.yaml"));
  return dir;
}

/** The VCF without the header lines that record the command and the date (`##bcftools_callCommand=…; Date=…`). */
const withoutCommands = (vcf: string) =>
  vcf
    .split("\n")
    .filter((line) => !/^##bcftools\w*Command=/.test(line))
    .join("\n");

/** The called sites as `POS REF>ALT`. */
const sites = (vcf: string) =>
  vcf
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [, pos, , ref, alt] = line.split("\t");
      return `${pos} ${ref}>${alt}`;
    });

describe("variant calling with bwa, samtools and bcftools", () => {
  test("wfc's VCF is the hand-run one, with the planted SNPs; a second run is all up to date", async ({ skip }) => {
    needTools(skip);
    const dir = project({ workflow: true });
    const byHand = project({ workflow: false });
    try {
      const r = await wfc(["run", "workflow.yaml"], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      // However many jobs fusion makes of the 12 stage-jobs (8 today), all ran and all are up to date next time.
      const jobs = /^ok: (\d+) done, 0 up to date, 0 failed, 0 not run/m.exec(r.stderr)?.[1];
      expect(jobs, r.stderr).toBeDefined();

      const hand = await execa("bash", ["-c", BY_HAND], { cwd: byHand, reject: false });
      expect(hand.exitCode, String(hand.stderr)).toBe(0);

      const vcf = readFileSync(join(dir, "calls/all.vcf"), "utf8");
      expect(withoutCommands(vcf)).toBe(withoutCommands(readFileSync(join(byHand, "calls/all.vcf"), "utf8")));
      expect(sites(vcf)).toEqual([...data.alleles].sort(([a], [b]) => a - b).map(([pos, allele]) => `${pos} ${allele}`));
      // Every sample's reads were used: each sample is a column, homozygous for its own SNPs only.
      const columns = vcf
        .split("\n")
        .find((l) => l.startsWith("#CHROM"))!
        .split("\t")
        .slice(9);
      expect(columns).toEqual(SAMPLES.map((s) => `sorted_reads/${s}.bam`));
      for (const line of vcf.split("\n").filter((l) => l !== "" && !l.startsWith("#"))) {
        const fields = line.split("\t");
        const pos = Number(fields[1]);
        const genotypes = fields.slice(9).map((f) => f.split(":")[0]);
        expect(genotypes, `genotypes at ${pos}`).toEqual(SAMPLES.map((s) => (PLANTED[s].includes(pos) ? "1/1" : "0/0")));
      }

      const again = await wfc(["run", "workflow.yaml"], { cwd: dir });
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stderr).toContain(`ok: 0 done, ${jobs} up to date, 0 failed, 0 not run`);
      expect(readFileSync(join(dir, "calls/all.vcf"), "utf8")).toBe(vcf);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(byHand, { recursive: true, force: true });
    }
  });

  test("a truncated FASTQ fails `bwa mem … | samtools view` and the run, naming the stage and the sample's files; no VCF", async ({
    skip,
  }) => {
    needTools(skip);
    // Cut B's gzipped FASTQ short, as an interrupted copy leaves it: bwa reads some 900 of its
    // 1,500 reads, then fails; samtools, last in the pipe, ends well.
    const truncate = (sample: string, gz: Buffer) => (sample === "B" ? gz.subarray(0, Math.floor(gz.length * 0.6)) : gz);
    const dir = project({ workflow: true, fastq: truncate });
    try {
      const r = await wfc(["run", "workflow.yaml"], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^failed: bwa_map\S* \(exit 1\)$/m);
      expect(r.stderr).toContain(
        "  command: bwa mem -t 2 data/genome.fa data/samples/B.fastq.gz 2> logs/bwa_map/B.log | samtools view -b - > mapped_reads/B.bam\n",
      );
      // bwa's own word on it, from the log it was told to write, which is kept.
      expect(r.stderr).toContain("[gzclose] buffer error");
      expect(readFileSync(join(dir, "logs/bwa_map/B.log"), "utf8")).toContain("[gzclose] buffer error");
      expect(r.stderr).toMatch(/^failed: \d+ done, 0 up to date, 1 failed, \d+ not run/m);
      expect(existsSync(join(dir, "mapped_reads/B.bam"))).toBe(false);
      expect(existsSync(join(dir, "calls"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // What strict mode prevents: under `shell: sh` the same run "succeeds" with B called on part of its reads.
    const sh = project({ workflow: true, fastq: truncate });
    try {
      writeFileSync(join(sh, "workflow.yaml"), readFileSync(WORKFLOW, "utf8").replace("stages:\n", "defaults: { shell: sh }\nstages:\n"));
      const r = await wfc(["run", "workflow.yaml"], { cwd: sh });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(existsSync(join(sh, "calls/all.vcf"))).toBe(true);
    } finally {
      rmSync(sh, { recursive: true, force: true });
    }
  });

  test("a sample without its FASTQ is reported before anything runs (exit 2)", async ({ skip }) => {
    needTools(skip);
    const dir = project({ workflow: true, fastq: (sample, gz) => (sample === "C" ? undefined : gz) });
    try {
      const r = await wfc(["run", "workflow.yaml"], { cwd: dir });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toBe(
        'wfc: error: 1 input file is missing and no stage makes it: "data/samples/C.fastq.gz" (needed by stage `bwa_map`, sample="C"); ' +
          "add the files or fix the paths in the workflow (nothing was run)",
      );
      // Nothing ran: not even the genome's index or the samples that have their reads.
      expect(readdirSync(dir).sort()).toEqual(["data", "workflow.yaml"]);
      expect(readdirSync(join(dir, "data")).sort()).toEqual(["genome.fa", "samples"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

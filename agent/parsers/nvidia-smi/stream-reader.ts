// Reads the output of a long-lived `nvidia-smi --query-gpu=<fields> --format=csv[,nounits] -lms N`
// line by line. The header is printed once, when the process starts; it is the column map to
// trust, because nvidia-smi prints its own names for the fields it was asked for. Until a header
// arrives (or with `noheader`) the columns are taken to be the requested fields, in that order.
import { alignCells, columnsFromFields, columnsFromHeader, GpuNumbering, looksLikeHeader, readGpuRow, rowToReading, splitCsvLine } from './csv.js';
import { canonicalGpuField, type HeaderField } from './fields.js';
import type { GpuReading } from './samples.js';

export class QueryGpuStreamReader {
  private readonly requested: readonly string[];
  private columns: HeaderField[];
  private headerSeen = false;
  private numbering = new GpuNumbering();
  private rejected = 0;

  constructor(requestedFields: readonly string[]) {
    this.requested = requestedFields.map(canonicalGpuField);
    this.columns = columnsFromFields(requestedFields, canonicalGpuField);
  }

  /** True once a header line has set the column map. */
  get hasHeader(): boolean {
    return this.headerSeen;
  }

  /** Lines that were neither a header nor a row that fits the columns. */
  get rejectedLines(): number {
    return this.rejected;
  }

  get fields(): readonly string[] {
    return this.columns.map((c) => c.field);
  }

  /**
   * Feeds one line. Returns the GPU reading it carried, or null for a header, a blank line or
   * a line that does not fit the columns (counted in rejectedLines). Never throws.
   */
  push(line: string): GpuReading | null {
    const text = line.trim();
    if (text === '') return null;
    const cells = splitCsvLine(text);
    if (looksLikeHeader(cells, this.requested)) {
      // A restarted process prints its header again; always take the newest.
      this.columns = columnsFromHeader(cells, canonicalGpuField);
      this.headerSeen = true;
      this.numbering = new GpuNumbering();
      return null;
    }
    const aligned = alignCells(this.columns, cells, 'name');
    if (aligned === null) {
      this.rejected++;
      return null;
    }
    const row = readGpuRow(this.columns, aligned);
    return rowToReading(row, this.numbering.indexFor(row));
  }

  /** Forgets a learnt header, for a process that restarts with `noheader`. */
  reset(): void {
    this.columns = columnsFromFields(this.requested, canonicalGpuField);
    this.headerSeen = false;
    this.numbering = new GpuNumbering();
  }
}

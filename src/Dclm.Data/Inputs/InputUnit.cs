namespace Dclm.Data.Inputs;

/// <summary>The kinds of input the pipeline reads.</summary>
public enum InputKind
{
    /// <summary>A .warc or .warc.gz file.</summary>
    Warc,
    /// <summary>A JSONL file (plain, .gz or .zst) with a "text" field per line.</summary>
    Jsonl,
    /// <summary>A batch of .html/.htm files, one page each.</summary>
    HtmlFiles,
}

/// <summary>
/// The unit of work, resumption and sharding: one container file or one batch of HTML files. Its
/// <see cref="Index"/> is its position in the sorted plan, so every process derives the same numbering.
/// </summary>
/// <param name="Index">Position in the plan; shard i of N owns the units with Index % N == i.</param>
/// <param name="Kind">How the files are read.</param>
/// <param name="Source">Corpus name (first folder under the input root, or the file's stem).</param>
/// <param name="Files">Absolute paths, sorted.</param>
/// <param name="RelativePaths">Paths relative to the input root, used for ids.</param>
public sealed record InputUnit(int Index, InputKind Kind, string Source, IReadOnlyList<string> Files, IReadOnlyList<string> RelativePaths)
{
    /// <summary>Total size of the unit's files in bytes.</summary>
    public long Bytes => Files.Sum(f => new FileInfo(f).Length);
}

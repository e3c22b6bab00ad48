namespace Dclm.Eval.Data;

/// <summary>
/// Finds a task's splits under a data directory laid out as Hugging Face datasets export them:
/// <c>DIR/&lt;task&gt;/&lt;split&gt;.jsonl</c> (or <c>.jsonl.gz</c>, <c>.parquet</c>), or the Hub's own shard names
/// <c>DIR/&lt;task&gt;/&lt;split&gt;-00000-of-00001.parquet</c> (every shard of the split is read, in name order).
/// </summary>
public sealed class DataDirectory(string root)
{
    /// <summary>The directory.</summary>
    public string Root { get; } = Directory.Exists(root) ? Path.GetFullPath(root) : throw new DirectoryNotFoundException($"--data-dir: {root} is not a directory");

    /// <summary>The files holding <paramref name="split"/> of the dataset in <paramref name="folder"/> (relative to the root), or none.</summary>
    public IReadOnlyList<string> SplitFiles(string folder, string split)
    {
        string directory = Path.Combine(Root, folder);
        if (!Directory.Exists(directory)) return [];
        foreach (var extension in DatasetFile.Extensions)
        {
            string single = Path.Combine(directory, split + extension);
            if (File.Exists(single)) return [single];
        }
        var shards = Directory.GetFiles(directory, split + "-*.parquet").Order(StringComparer.Ordinal).ToArray();
        return shards;
    }

    /// <summary>Whether the split exists.</summary>
    public bool Has(string folder, string split) => SplitFiles(folder, split).Count > 0;

    /// <summary>Every row of the split, shards in order; a clear error when the split is missing.</summary>
    public IReadOnlyList<System.Text.Json.Nodes.JsonObject> Read(string folder, string split)
    {
        var files = SplitFiles(folder, split);
        if (files.Count == 0)
            throw new FileNotFoundException($"{Path.Combine(Root, folder)}: no {split} split ({string.Join(", ", DatasetFile.Extensions.Select(e => split + e))} or {split}-*.parquet)");
        return files.SelectMany(DatasetFile.Read).ToList();
    }
}

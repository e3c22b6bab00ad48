namespace Dclm.Data.Inputs;

/// <summary>
/// Turns an input folder (or a single file) into a deterministic list of <see cref="InputUnit"/>s: every WARC or
/// JSONL file is one unit; HTML files are grouped, in sorted path order, into batches per source folder.
/// </summary>
public static class InputPlanner
{
    /// <summary>HTML files per unit; small enough for fine-grained resumption, large enough to amortize output files.</summary>
    public const int HtmlFilesPerUnit = 256;

    /// <summary>Plans the units under <paramref name="inputPath"/>.</summary>
    public static IReadOnlyList<InputUnit> Plan(string inputPath)
    {
        var root = Path.GetFullPath(inputPath);
        IEnumerable<string> files;
        if (File.Exists(root))
        {
            files = [root];
            root = Path.GetDirectoryName(root)!;
        }
        else if (Directory.Exists(root)) files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories);
        else throw new DirectoryNotFoundException($"{inputPath}: input folder or file does not exist");

        var sorted = files
            .Select(f => (Full: f, Relative: Path.GetRelativePath(root, f).Replace('\\', '/')))
            .Where(f => !Path.GetFileName(f.Full).StartsWith('.'))
            .OrderBy(f => f.Relative, StringComparer.Ordinal)
            .ToList();

        var units = new List<InputUnit>();
        var pendingHtml = new List<(string Full, string Relative)>();
        string? pendingSource = null;
        void FlushHtml()
        {
            if (pendingHtml.Count == 0) return;
            units.Add(new InputUnit(units.Count, InputKind.HtmlFiles, pendingSource!, pendingHtml.Select(f => f.Full).ToArray(), pendingHtml.Select(f => f.Relative).ToArray()));
            pendingHtml.Clear();
        }

        foreach (var file in sorted)
        {
            var kind = KindOf(file.Full);
            if (kind is null) continue;
            var source = SourceOf(file.Relative);
            if (kind == InputKind.HtmlFiles)
            {
                if (pendingSource != source || pendingHtml.Count == HtmlFilesPerUnit) FlushHtml();
                pendingSource = source;
                pendingHtml.Add(file);
                continue;
            }
            FlushHtml();
            units.Add(new InputUnit(units.Count, kind.Value, source, [file.Full], [file.Relative]));
        }
        FlushHtml();
        return units;
    }

    /// <summary>The reader for <paramref name="path"/>, or null when the file is not pipeline input.</summary>
    public static InputKind? KindOf(string path)
    {
        var name = Path.GetFileName(path).ToLowerInvariant();
        if (name.EndsWith(".warc") || name.EndsWith(".warc.gz")) return InputKind.Warc;
        if (name.EndsWith(".jsonl") || name.EndsWith(".jsonl.gz") || name.EndsWith(".jsonl.zst") || name.EndsWith(".json.gz") || name.EndsWith(".json.zst"))
            return InputKind.Jsonl;
        if (name.EndsWith(".html") || name.EndsWith(".htm")) return InputKind.HtmlFiles;
        return null;
    }

    /// <summary>First folder of the relative path, or the file name without its extensions.</summary>
    public static string SourceOf(string relativePath)
    {
        int slash = relativePath.IndexOf('/');
        if (slash > 0) return relativePath[..slash];
        var name = Path.GetFileName(relativePath);
        int dot = name.IndexOf('.');
        return dot > 0 ? name[..dot] : name;
    }
}

using System.Text.Json.Nodes;
using Dclm.Eval.Data;

namespace Dclm.Eval.Harness;

/// <summary>A harness task's documents: the evaluated split and the split its shots come from, both processed as the harness processes them.</summary>
public sealed record HarnessDocuments(IReadOnlyList<JsonObject> Evaluated, IReadOnlyList<JsonObject> FewShot, string Folder)
{
    /// <summary>
    /// Reads the task's splits from <paramref name="data"/>. The evaluated split is test_split, else
    /// validation_split; shots come from fewshot_split (as stored), else the training split, else
    /// validation, else test (with process_docs applied), as the harness's fewshot_docs falls back.
    /// Shots' files are read only when <paramref name="needShots"/>.
    /// </summary>
    public static HarnessDocuments Load(HarnessTask task, DataDirectory data, bool needShots)
    {
        string split = task.EvaluationSplit;
        string folder = task.DataFolders.FirstOrDefault(f => data.Has(f, split))
            ?? throw new FileNotFoundException($"task {task.Label}: no {split} split under {data.Root} (looked in {string.Join(", ", task.DataFolders.Select(f => Path.Combine(f, split + ".{jsonl,jsonl.gz,parquet}")))})");
        var evaluated = Read(task, data, folder, split, process: true);
        if (evaluated.Count == 0) throw new InvalidDataException($"task {task.Label}: {Path.Combine(data.Root, folder)} has no {split} documents{(task.RowFilter is { } f ? $" with {f.Field} = {f.Value}" : "")}");
        if (!needShots) return new HarnessDocuments(evaluated, [], folder);
        var (shotSplit, process) = task.FewShotSplit is string explicitSplit ? (explicitSplit, false)
            : (task.TrainingSplit ?? task.ValidationSplit ?? task.TestSplit!, true);
        var shots = shotSplit == split && process ? evaluated : Read(task, data, folder, shotSplit, process);
        return new HarnessDocuments(evaluated, shots, folder);
    }

    private static IReadOnlyList<JsonObject> Read(HarnessTask task, DataDirectory data, string folder, string split, bool process)
    {
        IReadOnlyList<JsonObject> rows = data.Read(folder, split);
        if (task.RowFilter is var (field, value))
            rows = rows.Where(r => r[field] is not JsonValue v || !v.TryGetValue(out string? s) || s == value).ToList();
        try { return process && task.ProcessDocs is { } processor ? processor(rows) : rows; }
        catch (FormatException e) { throw new InvalidDataException($"task {task.Label}: {Path.Combine(data.Root, folder)} {split}: {e.Message}"); }
    }
}

using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Dclm.Formats.Safetensors;
using Dclm.Tensors;
using Dclm.Tokenizers;
using Dclm.Training.Optimization;

namespace Dclm.Training.Checkpointing;

/// <summary>
/// Training checkpoints under OUTPUT/checkpoints/step-NNNNNNNN. Each holds the trained weights (a full
/// run's fp32 model as a DCLM-layout Hugging Face directory loadable by <c>dclm generate</c>, a LoRA run's
/// adapter), optimizer.safetensors with the AdamW moments kept apart from the weights, and trainer.json.
/// </summary>
/// <remarks>
/// A checkpoint is written into a ".partial-" directory and renamed into place only when complete, so a
/// crash (even kill -9) mid-write leaves the previous checkpoints untouched; stale partial directories
/// are removed on the next start. Only the newest <see cref="Keep"/> are kept.
/// </remarks>
public sealed class CheckpointStore
{
    private const string Prefix = "step-";
    private const string PartialPrefix = ".partial-";

    public CheckpointStore(string runDirectory, int keep)
    {
        Directory = Path.Combine(runDirectory, "checkpoints");
        Keep = Math.Max(1, keep);
    }

    /// <summary>The checkpoints folder.</summary>
    public string Directory { get; }
    /// <summary>How many complete checkpoints are kept.</summary>
    public int Keep { get; }

    /// <summary>
    /// Called with the partial directory once every file of a checkpoint is written and before it is renamed
    /// into place (the crash-safety test stops a process exactly here).
    /// </summary>
    public Action<string>? Committing { get; set; }

    /// <summary>Complete checkpoints, oldest first.</summary>
    public IReadOnlyList<string> List()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        return System.IO.Directory.GetDirectories(Directory, Prefix + "*")
            .Where(d => File.Exists(Path.Combine(d, "trainer.json")))
            .OrderBy(d => d, StringComparer.Ordinal).ToList();
    }

    /// <summary>The newest complete checkpoint, or null.</summary>
    public string? Latest() => List().LastOrDefault();

    /// <summary>Removes directories a crash left half-written.</summary>
    public void RemovePartial()
    {
        if (!System.IO.Directory.Exists(Directory)) return;
        foreach (var partial in System.IO.Directory.GetDirectories(Directory, PartialPrefix + "*")) System.IO.Directory.Delete(partial, recursive: true);
    }

    /// <summary>Writes a full run's checkpoint atomically and prunes old ones; returns its directory.</summary>
    public string Save(ModelParameters parameters, AdamW optimizer, TrainerState state, Tokenizer? tokenizer, string? tokenizerPath) =>
        Save(directory => ModelWeightsWriter.Write(directory, parameters, GgmlType.F32, tokenizer, tokenizerPath), optimizer, state);

    /// <summary>
    /// Writes a checkpoint atomically (<paramref name="writeWeights"/> fills the directory with the weights) and
    /// prunes old ones; returns its directory.
    /// </summary>
    public string Save(Action<string> writeWeights, AdamW optimizer, TrainerState state)
    {
        System.IO.Directory.CreateDirectory(Directory);
        string name = Prefix + state.Step.ToString("D8", CultureInfo.InvariantCulture);
        string final = Path.Combine(Directory, name), partial = Path.Combine(Directory, PartialPrefix + name);
        if (System.IO.Directory.Exists(partial)) System.IO.Directory.Delete(partial, true);
        System.IO.Directory.CreateDirectory(partial);
        writeWeights(partial);
        WriteOptimizer(Path.Combine(partial, "optimizer.safetensors"), optimizer);
        File.WriteAllText(Path.Combine(partial, "trainer.json"), JsonSerializer.Serialize(state, JsonOptions));
        Committing?.Invoke(partial);
        if (System.IO.Directory.Exists(final)) System.IO.Directory.Delete(final, true);
        System.IO.Directory.Move(partial, final);
        var all = List();
        for (int i = 0; i < all.Count - Keep; i++) System.IO.Directory.Delete(all[i], true);
        return final;
    }

    /// <summary>Restores weights (through <paramref name="readWeights"/>), optimizer moments and trainer state from <paramref name="checkpoint"/>.</summary>
    public static TrainerState Load(string checkpoint, Action<string> readWeights, AdamW optimizer)
    {
        string statePath = Path.Combine(checkpoint, "trainer.json");
        TrainerState state;
        try { state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(statePath), JsonOptions) ?? throw new InvalidDataException($"{statePath}: empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{statePath}: not a valid trainer state ({e.Message})"); }
        readWeights(checkpoint);
        ReadOptimizer(Path.Combine(checkpoint, "optimizer.safetensors"), optimizer);
        optimizer.Steps = state.Step;
        return state;
    }

    /// <summary>
    /// What --init-from names: a run directory (OUTPUT, holding checkpoints/) means its newest checkpoint, so the
    /// continued run gets the optimizer state too; anything else (a checkpoint, final/, a GGUF) is taken as it is.
    /// </summary>
    public static string ResolveInitFrom(string path) =>
        System.IO.Directory.Exists(path) && !File.Exists(Path.Combine(path, "config.json")) && new CheckpointStore(path, 1).Latest() is { } latest ? latest : path;

    /// <summary>
    /// Loads AdamW's moments and t from a checkpoint directory that has them (optimizer.safetensors beside trainer.json)
    /// and returns t; null when <paramref name="checkpoint"/> carries no optimizer state (final/, a GGUF, a Hugging Face model).
    /// </summary>
    public static long? TryLoadOptimizer(string checkpoint, AdamW optimizer)
    {
        string moments = Path.Combine(checkpoint, "optimizer.safetensors"), statePath = Path.Combine(checkpoint, "trainer.json");
        if (!File.Exists(moments) || !File.Exists(statePath)) return null;
        TrainerState state;
        try { state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(statePath), JsonOptions) ?? throw new InvalidDataException($"{statePath}: empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{statePath}: not a valid trainer state ({e.Message})"); }
        ReadOptimizer(moments, optimizer);
        return optimizer.Steps = state.Step;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static void WriteOptimizer(string path, AdamW optimizer)
    {
        if (optimizer.IsSharded) throw new InvalidOperationException("a sharded (ZeRO-1) optimizer is gathered into a whole one before it is saved");
        var writer = new SafetensorsWriter();
        writer.AddMetadata("optimizer", "adamw");
        writer.AddMetadata("steps", optimizer.Steps.ToString(CultureInfo.InvariantCulture));
        foreach (var (suffix, moments) in new[] { ("exp_avg", optimizer.FirstMoment), ("exp_avg_sq", optimizer.SecondMoment) })
            for (int i = 0; i < optimizer.Tensors.Count; i++)
            {
                var values = moments[i];
                writer.AddTensor($"{optimizer.Tensors[i].Name}.{suffix}", GgmlType.F32, optimizer.Tensors[i].Shape, stream => stream.Write(MemoryMarshal.AsBytes(values.AsSpan())));
            }
        writer.Write(path);
    }

    private static void ReadOptimizer(string path, AdamW optimizer)
    {
        using var file = SafetensorsFile.Open(path);
        foreach (var (suffix, moments) in new[] { ("exp_avg", optimizer.FirstMoment), ("exp_avg_sq", optimizer.SecondMoment) })
            for (int i = 0; i < optimizer.Tensors.Count; i++)
            {
                var t = optimizer.Tensors[i];
                string name = $"{t.Name}.{suffix}";
                if (!file.Tensors.TryGetValue(name, out var entry)) throw new InvalidDataException($"{path}: tensor {name} is missing");
                if (entry.Type != GgmlType.F32 || entry.ElementCount != t.Length) throw new InvalidDataException($"{path}: tensor {name} is not F32 with {t.Length} values");
                entry.Bytes.CopyTo(MemoryMarshal.AsBytes(moments[i].AsSpan()));
            }
    }
}

using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Dclm.Formats;
using Dclm.Formats.Safetensors;
using Dclm.Models;
using Dclm.Models.Adapters;
using Dclm.Tensors;
using Dclm.Tensors.Numerics;

namespace Dclm.Checkpoints.Adapters;

/// <summary>
/// LoRA adapters in Hugging Face PEFT's layout: a directory with adapter_config.json (peft_type LORA, r,
/// lora_alpha, target_modules, rank_pattern, alpha_pattern, base_model_name_or_path) and adapter_model.safetensors
/// holding <c>base_model.model.&lt;module path&gt;.lora_A.weight</c> (r, in) and <c>.lora_B.weight</c> (out, r) for
/// each wrapped module, as PEFT's save_pretrained writes them and from_pretrained reads them.
/// </summary>
public static class PeftAdapter
{
    /// <summary>The config file's name.</summary>
    public const string ConfigFile = "adapter_config.json";
    /// <summary>The weights file's name.</summary>
    public const string WeightsFile = "adapter_model.safetensors";
    private const string Prefix = "base_model.model.";

    /// <summary>True when <paramref name="directory"/> holds an adapter.</summary>
    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, ConfigFile)) && File.Exists(Path.Combine(directory, WeightsFile));

    /// <summary>
    /// Writes <paramref name="adapter"/> into <paramref name="directory"/>. Updates of the parts of a fused module
    /// (open_lm's q|k|v in in_proj) become one PEFT adapter of the summed rank whose B is block-diagonal (parts that
    /// share an A, as a read PEFT adapter's do, share its block of ranks); every module's α is set so α / r is its
    /// first part's scale, through alpha_pattern where it differs from lora_alpha.
    /// </summary>
    /// <param name="directory">Where to write.</param>
    /// <param name="adapter">The adapter.</param>
    /// <param name="baseModel">base_model_name_or_path.</param>
    /// <param name="dropout">lora_dropout, for PEFT users who train on.</param>
    /// <param name="rank">The r the config states (modules that differ go into rank_pattern); the commonest when null.</param>
    /// <param name="alpha">The lora_alpha the config states (modules that differ go into alpha_pattern); the commonest when null.</param>
    public static void Write(string directory, LoraWeights adapter, string baseModel, double dropout, int? rank = null, double? alpha = null)
    {
        var c = adapter.Config;
        var writer = new SafetensorsWriter();
        writer.AddMetadata("format", "pt");
        var modules = new List<(PeftModule Module, int Rank, double Alpha)>();
        // Each module's fused A and B are streamed while the file is written, a B row at a time, so saving a 7B run's
        // adapters allocates no copy of them (two fused copies made a QLoRA run's peak RSS 0.5 GiB higher at the end).
        for (int layer = 0; layer < c.Layers; layer++)
            foreach (var module in PeftModules.Of(c, layer))
            {
                var parts = Parts(adapter, layer, module);
                if (parts.Count == 0) continue;
                var fused = new FusedModule(c, module, parts);
                writer.AddTensor(Prefix + module.Path + ".lora_A.weight", GgmlType.F32, [fused.Rank, module.Columns], fused.WriteA);
                writer.AddTensor(Prefix + module.Path + ".lora_B.weight", GgmlType.F32, [module.Rows, fused.Rank], fused.WriteB);
                modules.Add((module, fused.Rank, parts[0].Update.Scale * fused.Rank));
            }
        Directory.CreateDirectory(directory);
        writer.Write(Path.Combine(directory, WeightsFile));
        File.WriteAllText(Path.Combine(directory, ConfigFile), Config(modules, baseModel, dropout, rank, alpha).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The updates of the parts of <paramref name="module"/>, with each part's first row in it.</summary>
    private static List<(LoraTarget Target, int RowOffset, LoraUpdate Update)> Parts(LoraWeights adapter, int layer, PeftModule module) =>
        module.Parts.SelectMany(p => adapter.For(layer, p.Target).Select(u => (p.Target, p.RowOffset, u))).ToList();

    /// <summary>
    /// One module's A (rank, in) and B (out, rank): the updates of its parts side by side, each B block scaled to the
    /// first update's scale; updates sharing an A (the slices of one read PEFT adapter) share its block of ranks.
    /// Both are written straight from the updates' own arrays.
    /// </summary>
    private sealed class FusedModule
    {
        private readonly PeftModule _module;
        private readonly List<(LoraTarget Target, int RowOffset, LoraUpdate Update)> _parts;
        private readonly List<float[]> _blocks;
        private readonly Dictionary<float[], int> _firstRank = new(ReferenceEqualityComparer.Instance);
        private readonly ModelConfig _config;
        private readonly double _scale;

        public FusedModule(ModelConfig c, PeftModule module, List<(LoraTarget Target, int RowOffset, LoraUpdate Update)> parts)
        {
            _config = c;
            _module = module;
            _parts = parts;
            _scale = parts[0].Update.Scale;
            _blocks = parts.Select(p => p.Update.A).Distinct().ToList();
            foreach (var block in _blocks)
            {
                _firstRank[block] = Rank;
                Rank += block.Length / module.Columns;
            }
        }

        /// <summary>The summed rank of the distinct A blocks.</summary>
        public int Rank { get; }

        public void WriteA(Stream stream)
        {
            foreach (var block in _blocks) stream.Write(MemoryMarshal.AsBytes(block.AsSpan()));
        }

        public void WriteB(Stream stream)
        {
            // For each Hugging Face row of the module: the part that covers it and that part's own row, or -1 (a zero row).
            int rowCount = _module.Rows;
            int[] partOfRow = ArrayPool<int>.Shared.Rent(rowCount), rowInPart = ArrayPool<int>.Shared.Rent(rowCount);
            const int RowsPerWrite = 256;
            float[] rows = ArrayPool<float>.Shared.Rent(RowsPerWrite * Rank);
            try
            {
                partOfRow.AsSpan(0, rowCount).Fill(-1);
                for (int p = 0; p < _parts.Count; p++)
                {
                    var (target, rowOffset, update) = _parts[p];
                    var order = PeftModules.RowOrder(_config, target);
                    for (int row = 0; row < update.Rows; row++)
                    {
                        // A base row of a llama.cpp llama file is Hugging Face row order[row]; PEFT's B is in Hugging Face order.
                        int hfRow = rowOffset + (order?[row] ?? row);
                        partOfRow[hfRow] = p;
                        rowInPart[hfRow] = row;
                    }
                }
                for (int start = 0; start < rowCount; start += RowsPerWrite)
                {
                    int count = Math.Min(RowsPerWrite, rowCount - start);
                    var block = rows.AsSpan(0, count * Rank);
                    block.Clear();
                    for (int i = 0; i < count; i++)
                    {
                        int p = partOfRow[start + i];
                        if (p < 0) continue;
                        var update = _parts[p].Update;
                        float factor = (float)(update.Scale / _scale);
                        int column = _firstRank[update.A], row = rowInPart[start + i];
                        for (int k = 0; k < update.Rank; k++) block[i * Rank + column + k] = update.B[row * update.Rank + k] * factor;
                    }
                    stream.Write(MemoryMarshal.AsBytes(block));
                }
            }
            finally
            {
                ArrayPool<int>.Shared.Return(partOfRow);
                ArrayPool<int>.Shared.Return(rowInPart);
                ArrayPool<float>.Shared.Return(rows);
            }
        }
    }

    private static JsonObject Config(List<(PeftModule Module, int Rank, double Alpha)> modules, string baseModel, double dropout, int? rank, double? loraAlpha)
    {
        // The run's rank and alpha (else the commonest) are the defaults; the others go into PEFT's patterns, by module
        // name where a whole kind of module agrees and by path where layers differ.
        int r = rank ?? modules.GroupBy(m => m.Rank).OrderByDescending(g => g.Count()).First().Key;
        double alpha = loraAlpha ?? modules.GroupBy(m => m.Alpha).OrderByDescending(g => g.Count()).First().Key;
        var rankPattern = new JsonObject();
        var alphaPattern = new JsonObject();
        foreach (var kind in modules.GroupBy(m => m.Module.Name))
        {
            bool uniformRank = kind.All(m => m.Rank == kind.First().Rank), uniformAlpha = kind.All(m => m.Alpha == kind.First().Alpha);
            foreach (var (module, moduleRank, a) in uniformRank && uniformAlpha ? kind.Take(1) : kind)
            {
                string key = uniformRank && uniformAlpha ? module.Name : module.Path;
                if (moduleRank != r) rankPattern[key] = moduleRank;
                if (a != alpha) alphaPattern[key] = a;
            }
        }
        return new JsonObject
        {
            ["alpha_pattern"] = alphaPattern,
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = baseModel,
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["lora_alpha"] = alpha,
            ["lora_dropout"] = dropout,
            ["modules_to_save"] = null,
            ["peft_type"] = "LORA",
            ["r"] = r,
            ["rank_pattern"] = rankPattern,
            ["revision"] = null,
            ["target_modules"] = new JsonArray(modules.Select(m => m.Module.Name).Distinct().Order(StringComparer.Ordinal).Select(n => (JsonNode)n!).ToArray()),
            ["task_type"] = "CAUSAL_LM",
            ["use_dora"] = false,
            ["use_rslora"] = false,
        };
    }

    /// <summary>
    /// Reads the adapter in <paramref name="directory"/> for the model <paramref name="adapters"/> wraps and serves it there as
    /// <paramref name="name"/>, returning its id: the one way a PEFT directory becomes a served adapter, for a command's
    /// <c>--lora</c> and for the server's (at start and through <c>POST /lora-adapters</c>). Throws
    /// <see cref="ArgumentException"/> for a malformed or taken name and <see cref="ModelFileException"/> naming the file for
    /// an adapter that is missing, malformed or made for another model.
    /// </summary>
    public static int Load(AdapterSet adapters, string name, string directory)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name.Length > 200 || name.Any(char.IsControl) || name.Trim() != name)
            throw new ArgumentException($"'{name}' is not an adapter name (1 to 200 characters, no control characters, no leading or trailing spaces)");
        return adapters.Add(name, Read(directory, adapters.Config));
    }

    /// <summary>
    /// The name an adapter goes by when none is given: its directory's name, or the run's when the adapter sits in a folder
    /// named "adapter", as <c>dclm finetune</c> writes it (runs/support/adapter is "support").
    /// </summary>
    public static string DefaultName(string directory)
    {
        string trimmed = directory.TrimEnd('/', '\\');
        string name = Path.GetFileName(trimmed);
        if (name == "adapter" && Path.GetFileName(Path.GetDirectoryName(trimmed)) is { Length: > 0 } run) name = run;
        return name.Length > 0 ? name : "adapter";
    }

    /// <summary>
    /// Reads the adapter in <paramref name="directory"/> for a base of <paramref name="config"/>, B's rows in the base's
    /// own order; problems are <see cref="ModelFileException"/>s naming the file and what is wrong.
    /// </summary>
    public static LoraWeights Read(string directory, ModelConfig config)
    {
        if (!Directory.Exists(directory)) throw new ModelFileException(directory, "is not a directory (a PEFT adapter is a directory holding adapter_config.json and adapter_model.safetensors)");
        string configPath = Path.Combine(directory, ConfigFile), weightsPath = Path.Combine(directory, WeightsFile);
        if (!File.Exists(configPath)) throw new ModelFileException(directory, $"is not a PEFT adapter: no {ConfigFile}");
        if (!File.Exists(weightsPath)) throw new ModelFileException(directory, $"is not a PEFT adapter: no {WeightsFile}");
        var settings = ReadConfig(configPath);
        using var file = SafetensorsFile.Open(weightsPath);
        var updates = new List<LoraUpdate>();
        var used = new HashSet<string>();
        for (int layer = 0; layer < config.Layers; layer++)
            foreach (var module in PeftModules.Of(config, layer))
            {
                string aName = Prefix + module.Path + ".lora_A.weight", bName = Prefix + module.Path + ".lora_B.weight";
                bool hasA = file.Tensors.TryGetValue(aName, out var a), hasB = file.Tensors.TryGetValue(bName, out var b);
                if (!hasA && !hasB) continue;
                if (!hasA || !hasB) throw new ModelFileException(weightsPath, $"{(hasA ? bName : aName)} is missing (PEFT stores lora_A and lora_B together)");
                used.Add(aName); used.Add(bName);
                if (a.Rank != 2 || a.Shape[1] != module.Columns || a.Shape[0] < 1)
                    throw new ModelFileException(weightsPath, $"{aName} is [{string.Join(", ", a.Shape)}], the base's {module.Path} needs [r, {module.Columns}]");
                int rank = (int)a.Shape[0];
                if (b.Rank != 2 || b.Shape[0] != module.Rows || b.Shape[1] != rank)
                    throw new ModelFileException(weightsPath, $"{bName} is [{string.Join(", ", b.Shape)}], the base's {module.Path} with r = {rank} needs [{module.Rows}, {rank}]");
                if (settings.Rank(module) is int expected && expected != rank)
                    throw new ModelFileException(weightsPath, $"{aName} has rank {rank}, the config's r (or rank_pattern) says {expected}");
                Split(updates, config, layer, module, Values(weightsPath, a), Values(weightsPath, b), rank, settings.Alpha(module), settings.RankStabilized);
            }
        foreach (var name in file.Tensors.Keys)
            if (!used.Contains(name))
                throw new ModelFileException(weightsPath, $"tensor {name} is not the lora_A or lora_B weight of a module this {config.Architecture} base has ({config.Layers} layers)");
        if (updates.Count == 0) throw new ModelFileException(weightsPath, "holds no LoRA weights");
        return new LoraWeights(config, updates);
    }

    /// <summary>One module's adapter as one update per part sharing A (parts whose B rows are all zero are left out), B in the base's row order.</summary>
    private static void Split(List<LoraUpdate> updates, ModelConfig c, int layer, PeftModule module, float[] a, float[] b, int rank, double alpha, bool rankStabilized)
    {
        float scale = (float)(alpha / (rankStabilized ? Math.Sqrt(rank) : rank));
        for (int p = 0; p < module.Parts.Length; p++)
        {
            var (target, offset) = module.Parts[p];
            int rows = (p + 1 < module.Parts.Length ? module.Parts[p + 1].RowOffset : module.Rows) - offset;
            var order = PeftModules.RowOrder(c, target);
            var slice = new float[rows * rank];
            for (int row = 0; row < rows; row++)
                Array.Copy(b, (offset + (order?[row] ?? row)) * rank, slice, row * rank, rank);
            if (module.Parts.Length > 1 && slice.All(v => v == 0)) continue;
            updates.Add(new LoraUpdate(layer, target, a, slice, rank, scale));
        }
    }

    private static unsafe float[] Values(string path, TensorEntry entry)
    {
        int count = checked((int)entry.ElementCount);
        var values = new float[count];
        switch (entry.Type)
        {
            case GgmlType.F32: new ReadOnlySpan<float>(entry.Data, count).CopyTo(values); break;
            case GgmlType.F16: HalfConversion.ToSingle(new ReadOnlySpan<ushort>(entry.Data, count), values); break;
            case GgmlType.BF16: BFloat16Conversion.ToSingle(new ReadOnlySpan<ushort>(entry.Data, count), values); break;
            default: throw new ModelFileException(path, $"{entry.Name} is {entry.DtypeName}; LoRA weights are read as F32, F16 or BF16");
        }
        return values;
    }

    /// <summary>What adapter_config.json says about ranks and scales, checked for what this reader supports.</summary>
    private sealed record Settings(int DefaultRank, double DefaultAlpha, Dictionary<string, int> RankPattern, Dictionary<string, double> AlphaPattern, bool RankStabilized)
    {
        public int? Rank(PeftModule module) => Match(RankPattern, module) is int r ? r : DefaultRank > 0 ? DefaultRank : null;
        public double Alpha(PeftModule module) => Match(AlphaPattern, module) ?? DefaultAlpha;

        // PEFT matches a pattern key against the end of a module's path, after a dot.
        private static T? Match<T>(Dictionary<string, T> pattern, PeftModule module) where T : struct
        {
            foreach (var (key, value) in pattern)
                if (module.Path == key || Regex.IsMatch(module.Path, $@"(^|.*\.){key}$")) return value;
            return null;
        }
    }

    private static Settings ReadConfig(string path)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new ModelFileException(path, $"is not valid JSON ({e.Message})"); }
        if (root is not JsonObject config) throw new ModelFileException(path, "must be a JSON object");
        string Text(string key) => config[key] is JsonValue v && v.TryGetValue(out string? s) ? s : "";
        bool Flag(string key) => config[key] is JsonValue v && v.TryGetValue(out bool b) && b;
        if (!Text("peft_type").Equals("LORA", StringComparison.OrdinalIgnoreCase)) throw new ModelFileException(path, $"peft_type is '{Text("peft_type")}', only LORA adapters are supported");
        if (Flag("use_dora")) throw new ModelFileException(path, "use_dora: DoRA adapters are not supported");
        if (Flag("fan_in_fan_out")) throw new ModelFileException(path, "fan_in_fan_out: adapters for Conv1D (GPT-2) layouts are not supported");
        if (config["modules_to_save"] is JsonArray { Count: > 0 }) throw new ModelFileException(path, "modules_to_save: adapters that replace whole modules are not supported");
        if (config["bias"] is JsonValue bias && bias.TryGetValue(out string? biasMode) && biasMode != "none") throw new ModelFileException(path, $"bias '{biasMode}': adapters that train biases are not supported");
        int rank = config["r"] is JsonValue r && r.TryGetValue(out int ri) ? ri : 0;
        double alpha = config["lora_alpha"] is JsonValue a && a.TryGetValue(out double ad) ? ad : rank > 0 ? rank : 8;
        var rankPattern = new Dictionary<string, int>();
        if (config["rank_pattern"] is JsonObject rp)
            foreach (var (key, value) in rp)
                rankPattern[key] = value is JsonValue v && v.TryGetValue(out int n) ? n : throw new ModelFileException(path, $"rank_pattern.{key} must be an integer");
        var alphaPattern = new Dictionary<string, double>();
        if (config["alpha_pattern"] is JsonObject ap)
            foreach (var (key, value) in ap)
                alphaPattern[key] = value is JsonValue v && v.TryGetValue(out double x) ? x : throw new ModelFileException(path, $"alpha_pattern.{key} must be a number");
        return new Settings(rank, alpha, rankPattern, alphaPattern, Flag("use_rslora"));
    }

    /// <summary>The base model an adapter names, or null.</summary>
    public static string? BaseModel(string directory)
    {
        try { return JsonNode.Parse(File.ReadAllText(Path.Combine(directory, ConfigFile)))?["base_model_name_or_path"]?.GetValue<string>(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or IOException) { return null; }
    }
}

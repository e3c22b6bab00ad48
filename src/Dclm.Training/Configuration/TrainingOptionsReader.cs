using System.Globalization;
using Dclm.Training.Data;
using YamlDotNet.RepresentationModel;

namespace Dclm.Training.Configuration;

/// <summary>
/// Reads train.yaml into <see cref="TrainingOptions"/> and applies command-line overrides, which use the
/// same keys. Errors name the file and key.
/// </summary>
public static class TrainingOptionsReader
{
    /// <summary>Every scalar key, with a one-line description (the CLI turns each into a --flag).</summary>
    public static readonly IReadOnlyList<(string Key, string Description)> Keys =
    [
        ("data", "training data: token shards (directory or .bin), .txt or .jsonl"),
        ("validation_data", "held-out data (default: validation_fraction of each source)"),
        ("validation_fraction", "fraction of each source held out for validation"),
        ("tokenizer", "tokenizer.json or GGUF with tokenizer metadata"),
        ("output", "run directory"),
        ("init_from", "continue training from this checkpoint (weights, and AdamW state when it has one), run directory or GGUF"),
        ("replay_data", "continual pretraining: the earlier domain's data, replayed and measured for forgetting"),
        ("replay_fraction", "share of every stage drawn from replay_data (0 = measure forgetting only)"),
        ("dim", "residual width"), ("layers", "transformer blocks"), ("heads", "attention heads"),
        ("hidden_dim", "feed-forward width (0 = open_lm default)"), ("vocab_size", "vocabulary rows (0 = tokenizer size)"),
        ("tied_embeddings", "share embedding and output head"), ("qk_norm", "open_lm qk-norm"),
        ("sliding_window", "attend to the last N positions only (0 = off)"),
        ("positional_embedding_type", "rotary, alibi, rotary_alibi (RoPE plus ALiBi bias, our extension) or none"),
        ("seq_len", "sequence length"), ("batch_size", "sequences per micro-batch"), ("grad_accum", "micro-batches per update"),
        ("steps", "optimizer updates (0 = from stage token budgets)"), ("lr", "peak learning rate"), ("min_lr", "final learning rate"),
        ("warmup", "warmup updates"), ("weight_decay", "AdamW weight decay"), ("beta1", "AdamW beta1"), ("beta2", "AdamW beta2"),
        ("eps", "AdamW epsilon"), ("grad_clip", "gradient-norm clip (0 = off)"), ("z_loss", "z-loss weight"), ("seed", "random seed"),
        ("threads", "compute threads (0 = all cores)"), ("eval_every", "validate every N updates"), ("eval_batches", "validation batches"),
        ("checkpoint_every", "checkpoint every N updates"), ("keep_checkpoints", "checkpoints kept"), ("log_every", "metrics every N updates"),
        ("final_dtype", "f32, bf16 or f16 for OUTPUT/final"),
        ("zero", "under mpirun/srun: 0 = AdamW state on every rank, 1 = sharded across ranks (ZeRO-1)"),
    ];

    /// <summary>Reads <paramref name="path"/>, then applies <paramref name="overrides"/> (key → value text).</summary>
    public static TrainingOptions Read(string? path, IReadOnlyDictionary<string, string> overrides)
    {
        var options = new TrainingOptions();
        if (path is not null)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such config file");
            var stream = new YamlStream();
            try { using var reader = new StreamReader(path); stream.Load(reader); }
            catch (YamlDotNet.Core.YamlException e) { throw new InvalidDataException($"{path}: not valid YAML ({e.Message})"); }
            if (stream.Documents.Count > 0)
            {
                if (stream.Documents[0].RootNode is not YamlMappingNode root) throw new InvalidDataException($"{path}: the top level must be a mapping of keys");
                string baseDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!;
                foreach (var (keyNode, value) in root.Children)
                {
                    string key = ((YamlScalarNode)keyNode).Value ?? "";
                    options = key switch
                    {
                        "sources" => options with { Sources = ReadSources(path, value, baseDirectory) },
                        "stages" => options with { Stages = ReadStages(path, value) },
                        _ when value is YamlScalarNode scalar => Apply(options, key, scalar.Value ?? "", $"{path}: ", baseDirectory),
                        _ => throw new InvalidDataException($"{path}: key '{key}' must be a single value"),
                    };
                }
            }
        }
        foreach (var (key, value) in overrides) options = Apply(options, key, value, "--", null);
        return options.Validate();
    }

    private static TrainingOptions Apply(TrainingOptions o, string key, string value, string where, string? baseDirectory)
    {
        string Path(string p) => baseDirectory is null || System.IO.Path.IsPathRooted(p) ? p : System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDirectory, p));
        try
        {
            return key switch
            {
                "data" => o with { Sources = new Dictionary<string, string> { ["data"] = Path(value) } },
                "validation_data" => o with { ValidationData = value.Length == 0 ? null : Path(value) },
                "validation_fraction" => o with { ValidationFraction = Double(value) },
                "tokenizer" => o with { Tokenizer = Path(value) },
                "output" => o with { Output = Path(value) },
                "init_from" => o with { InitFrom = value.Length == 0 ? null : Path(value) },
                "replay_data" => o with { ReplayData = value.Length == 0 ? null : Path(value) },
                "replay_fraction" => o with { ReplayFraction = Double(value) },
                "dim" => o with { Dim = Int(value) },
                "layers" => o with { Layers = Int(value) },
                "heads" => o with { Heads = Int(value) },
                "hidden_dim" => o with { HiddenDim = Int(value) },
                "vocab_size" => o with { VocabularySize = Int(value) },
                "tied_embeddings" => o with { TiedEmbeddings = Bool(value) },
                "qk_norm" => o with { QkNorm = Bool(value) },
                "sliding_window" => o with { SlidingWindow = Int(value) },
                "positional_embedding_type" => o with { Positions = value },
                "seq_len" => o with { SequenceLength = Int(value) },
                "batch_size" => o with { BatchSize = Int(value) },
                "grad_accum" => o with { GradientAccumulation = Int(value) },
                "steps" => o with { Steps = Int(value) },
                "lr" => o with { LearningRate = Double(value) },
                "min_lr" => o with { MinLearningRate = Double(value) },
                "warmup" => o with { Warmup = Int(value) },
                "weight_decay" => o with { WeightDecay = Double(value) },
                "beta1" => o with { Beta1 = Double(value) },
                "beta2" => o with { Beta2 = Double(value) },
                "eps" => o with { Epsilon = Double(value) },
                "grad_clip" => o with { GradientClip = Double(value) },
                "z_loss" => o with { ZLoss = Double(value) },
                "seed" => o with { Seed = ulong.Parse(value, CultureInfo.InvariantCulture) },
                "threads" => o with { Threads = Int(value) },
                "zero" => o with { Zero = Int(value) },
                "eval_every" => o with { EvalEvery = Int(value) },
                "eval_batches" => o with { EvalBatches = Int(value) },
                "checkpoint_every" => o with { CheckpointEvery = Int(value) },
                "keep_checkpoints" => o with { KeepCheckpoints = Int(value) },
                "log_every" => o with { LogEvery = Int(value) },
                "final_dtype" => o with { FinalDtype = value.ToLowerInvariant() },
                _ => throw new InvalidDataException($"{where}{key}: unknown key; known keys: {string.Join(", ", Keys.Select(k => k.Key))}, sources, stages"),
            };
        }
        catch (FormatException) { throw new InvalidDataException($"{where}{key}: '{value}' is not a valid value"); }
        catch (OverflowException) { throw new InvalidDataException($"{where}{key}: '{value}' is out of range"); }
    }

    private static int Int(string v) => int.Parse(v, NumberStyles.Integer, CultureInfo.InvariantCulture);
    private static double Double(string v) => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture);
    private static bool Bool(string v) => v.ToLowerInvariant() switch { "true" or "yes" or "1" => true, "false" or "no" or "0" => false, _ => throw new FormatException() };

    private static Dictionary<string, string> ReadSources(string path, YamlNode node, string baseDirectory)
    {
        if (node is not YamlMappingNode map) throw new InvalidDataException($"{path}: sources must map names to paths");
        var result = new Dictionary<string, string>();
        foreach (var (k, v) in map.Children)
        {
            string name = ((YamlScalarNode)k).Value ?? "";
            string value = (v as YamlScalarNode)?.Value ?? throw new InvalidDataException($"{path}: sources.{name} must be a path");
            result[name] = System.IO.Path.IsPathRooted(value) ? value : System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDirectory, value));
        }
        return result;
    }

    private static List<MixingStage> ReadStages(string path, YamlNode node)
    {
        if (node is not YamlSequenceNode list) throw new InvalidDataException($"{path}: stages must be a list");
        var stages = new List<MixingStage>();
        foreach (var item in list.Children)
        {
            string where = $"{path}: stages[{stages.Count}]";
            if (item is not YamlMappingNode map) throw new InvalidDataException($"{where} must be a mapping with tokens and weights");
            string name = $"stage {stages.Count}";
            long tokens = 0;
            var weights = new Dictionary<string, double>();
            foreach (var (k, v) in map.Children)
            {
                string key = ((YamlScalarNode)k).Value ?? "";
                try
                {
                    switch (key)
                    {
                        case "name": name = ((YamlScalarNode)v).Value ?? name; break;
                        case "tokens": tokens = (long)double.Parse(((YamlScalarNode)v).Value ?? "", NumberStyles.Float, CultureInfo.InvariantCulture); break;
                        case "weights" when v is YamlMappingNode w:
                            foreach (var (sk, sv) in w.Children)
                                weights[((YamlScalarNode)sk).Value ?? ""] = double.Parse(((YamlScalarNode)sv).Value ?? "", NumberStyles.Float, CultureInfo.InvariantCulture);
                            break;
                        default: throw new InvalidDataException($"{where}.{key}: unknown stage key (name, tokens, weights)");
                    }
                }
                catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
                {
                    throw new InvalidDataException($"{where}.{key}: not a valid value");
                }
            }
            if (weights.Count == 0) throw new InvalidDataException($"{where}: weights are required");
            stages.Add(new MixingStage(name, tokens, weights));
        }
        return stages;
    }
}

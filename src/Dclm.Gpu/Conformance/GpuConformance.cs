using Dclm.Checkpoints;
using Dclm.Models;
using Dclm.Tensors;

namespace Dclm.Gpu.Conformance;

/// <summary>One check: its name, the largest error seen (relative to each row's largest |logit|), and whether it passed.</summary>
public sealed record ConformanceResult(string Name, double MaxRelativeError, bool Passed)
{
    public override string ToString() => $"{(Passed ? "PASS" : "FAIL")} {Name}: max relative error {MaxRelativeError:E2}";
}

/// <summary>
/// The GPU backend checked against the CPU engine (itself checked against PyTorch and llama.cpp logits): for each model
/// (the dclm-tiny fixtures, and small Llama, Qwen2 and Qwen3 models) and each weight type (f32, f16, bf16, q8_0, q4_0,
/// quantized with the project's quantizer), a 12-token prefill (tiled kernels) and three decode steps (eight-lanes-per-row
/// kernels) must give the CPU engine's logits to within <see cref="Tolerance"/> of each row's largest |logit|; and three
/// sequences decoded in one batch must give exactly the logits each gives decoded alone. Library code, so the test
/// project (on ILGPU's CPU accelerator) and <c>dclm gpu-check</c> (on a real GPU) run the same cases.
/// </summary>
public static class GpuConformance
{
    /// <summary>Largest accepted |gpu − cpu| / max|cpu| over a row of logits.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Positions per attention split in the long-context cases: small, so contexts of 21..36 cross several splits.</summary>
    public const int LongContextSplitLength = 8;

    /// <summary>The weight types every model is checked in.</summary>
    public static readonly GgmlType[] Types = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0];

    /// <summary>The models: the fixture directories found under <paramref name="fixtures"/>, then the synthetic graphs.</summary>
    public static IReadOnlyList<string> Models(string? fixtures) =>
        (fixtures is null ? [] : new[] { "dclm-tiny", "dclm-tiny-bf16" }.Where(f => Directory.Exists(Path.Combine(fixtures, f))).ToArray())
        .Concat(SyntheticDecoders.Names).ToArray();

    /// <summary>
    /// Runs every case (of model <paramref name="only"/> when given) on <paramref name="device"/>, reporting each result as it
    /// comes: each model in each type, then the long-context split-attention cases (Llama, and its window and ALiBi variants),
    /// then LoRA adapters on the device (<see cref="AdapterConformance"/>).
    /// </summary>
    public static IReadOnlyList<ConformanceResult> RunAll(GpuDevice device, string? fixtures, Action<ConformanceResult> report, CancellationToken cancellation = default,
        string? only = null)
    {
        var results = new List<ConformanceResult>();
        foreach (var model in Models(fixtures).Where(m => only is null || m == only))
            foreach (var type in Types)
            {
                cancellation.ThrowIfCancellationRequested();
                foreach (var r in RunModel(device, fixtures, model, type, batched: type == GgmlType.Q4_0 || type == GgmlType.F32))
                {
                    results.Add(r);
                    report(r);
                }
            }
        foreach (var model in new[] { "llama" }.Concat(SyntheticDecoders.AttentionVariants).Where(m => only is null || m == only))
        {
            cancellation.ThrowIfCancellationRequested();
            foreach (var r in RunLongContext(device, model, LongContextSplitLength, batched: model == "llama"))
            {
                results.Add(r);
                report(r);
            }
            foreach (var r in RunLongPrefill(device, model, chunked: model == "llama"))
            {
                results.Add(r);
                report(r);
            }
        }
        var models = Models(fixtures);
        foreach (var (model, type) in AdapterConformance.Cases.Where(c => models.Contains(c.Model) && (only is null || c.Model == only)))
        {
            cancellation.ThrowIfCancellationRequested();
            foreach (var r in AdapterConformance.Run(device, fixtures, model, type))
            {
                results.Add(r);
                report(r);
            }
        }
        return results;
    }

    /// <summary>
    /// The logits check of <paramref name="model"/> in <paramref name="type"/>, and with <paramref name="batched"/> the batch
    /// check. f16 and bf16 also prefill a prompt of 20 in two steps (11 + 9, both past the decode kernel's 8 tokens, so both
    /// on the prefill product: tensor cores by default) against one step, bit for bit.
    /// </summary>
    public static IReadOnlyList<ConformanceResult> RunModel(GpuDevice device, string? fixtures, string model, GgmlType type, bool batched)
    {
        using var memory = new HostWeights();
        var (config, weights, dispose) = Load(fixtures, model, memory);
        try
        {
            var converted = memory.Convert(weights, type);
            using var cpu = new DecoderModel(config, converted);
            using var gpu = new GpuDecoderModel(config, converted, device);
            string name = $"{model} {GgmlTypeInfo.Name(type)}";
            var results = new List<ConformanceResult> { CompareLogits(cpu, gpu, name) };
            if (batched) results.Add(CompareBatched(gpu, name));
            if (type is GgmlType.F16 or GgmlType.BF16) results.Add(CompareChunkedPrefill(gpu, name, promptLength: 20, split: 11));
            return results;
        }
        finally { dispose?.Dispose(); }
    }

    /// <summary>
    /// Long contexts through split attention: <paramref name="model"/> (a synthetic graph or attention variant) in f32 with
    /// <paramref name="splitLength"/> positions per split, a 20-token prefill and 12 decode steps (contexts 21..32), against
    /// the CPU engine; with <paramref name="batched"/> the batch check, whose sequences then need different numbers of splits
    /// in one step.
    /// </summary>
    public static IReadOnlyList<ConformanceResult> RunLongContext(GpuDevice device, string model, int splitLength, bool batched)
    {
        using var memory = new HostWeights();
        var (config, weights, _) = Load(null, model, memory);
        using var cpu = new DecoderModel(config, weights);
        using var gpu = new GpuDecoderModel(config, weights, device) { AttentionSplitLength = splitLength };
        string name = $"{model} f32, attention split every {splitLength} positions";
        var results = new List<ConformanceResult> { CompareLogits(cpu, gpu, name, promptLength: 20, steps: 12, capacity: 40) };
        if (batched) results.Add(CompareBatched(gpu, name));
        return results;
    }

    /// <summary>Prompt length of <see cref="RunLongPrefill"/>: past the tiled attention kernel's 32-position chunk, and not a multiple of its tiles.</summary>
    public const int LongPrefillLength = 45;

    /// <summary>
    /// A <see cref="LongPrefillLength"/>-token prefill of <paramref name="model"/> in f32 (every row's logits), then 6 decode
    /// steps with 8 positions per split, against the CPU engine: query tiles full and partly filled, contexts crossing
    /// attention chunks and not a multiple of them (windows and ALiBi with the variants). With <paramref name="chunked"/>
    /// also the prompt prefilled in two steps (26 + 19 tokens) against one step: a row's logits must not depend on which
    /// other rows share its tiles, so the second step's rows must equal the one-step rows bit for bit.
    /// <paramref name="tiled"/> false runs the per-warp attention kernel instead.
    /// </summary>
    public static IReadOnlyList<ConformanceResult> RunLongPrefill(GpuDevice device, string model, bool chunked, bool tiled = true)
    {
        using var memory = new HostWeights();
        var (config, weights, _) = Load(null, model, memory);
        using var cpu = new DecoderModel(config, weights);
        using var gpu = new GpuDecoderModel(config, weights, device) { AttentionSplitLength = LongContextSplitLength, TiledAttention = tiled };
        string name = $"{model} f32, {(tiled ? "tiled" : "per-warp")} attention";
        var results = new List<ConformanceResult> { CompareLogits(cpu, gpu, name, promptLength: LongPrefillLength, steps: 6, capacity: 64) };
        if (chunked) results.Add(CompareChunkedPrefill(gpu, name, LongPrefillLength, 26));
        return results;
    }

    internal static (ModelConfig, ModelWeights, IDisposable?) Load(string? fixtures, string model, HostWeights memory)
    {
        if (SyntheticDecoders.Names.Contains(model) || SyntheticDecoders.AttentionVariants.Contains(model))
        {
            var config = SyntheticDecoders.Config(model);
            return (config, SyntheticDecoders.Weights(config, memory, seed: 20261204), null);
        }
        var loaded = ModelLoader.Load(Path.Combine(fixtures!, model));
        return (loaded.Config, loaded.Model.Weights, loaded);
    }

    /// <summary>A prompt (all rows' logits), then decode steps, on both models.</summary>
    internal static ConformanceResult CompareLogits(IDecoderModel cpu, IDecoderModel gpu, string name, int promptLength = 12, int steps = 3, int capacity = 32,
        double tolerance = Tolerance)
    {
        int vocabulary = cpu.Config.VocabularySize;
        int[] prompt = Tokens(promptLength, vocabulary, 1);
        var cpuCache = cpu.CreateCache(1, capacity);
        var gpuCache = gpu.CreateCache(1, capacity);
        var expected = new float[prompt.Length * vocabulary];
        var actual = new float[prompt.Length * vocabulary];
        var batch = ForwardBatch.Sequence(prompt, 0, allLogits: true);
        cpu.Forward(batch, cpuCache, expected);
        gpu.Forward(batch, gpuCache, actual);
        double worst = WorstRow(expected, actual, prompt.Length, vocabulary);
        int token = prompt[^1];
        for (int step = 0; step < steps; step++)
        {
            token = (token * 31 + 7) % vocabulary;
            var one = ForwardBatch.Sequence([token], prompt.Length + step);
            cpu.Forward(one, cpuCache, expected.AsSpan(0, vocabulary));
            gpu.Forward(one, gpuCache, actual.AsSpan(0, vocabulary));
            worst = Math.Max(worst, WorstRow(expected, actual, 1, vocabulary));
        }
        return new ConformanceResult($"{name} logits (prefill {promptLength}, decode {steps}) vs CPU engine", worst, worst <= tolerance);
    }

    /// <summary>A prompt prefilled in one step against the same prompt in two steps split at <paramref name="split"/>: the second step's rows, the same bits.</summary>
    private static ConformanceResult CompareChunkedPrefill(IDecoderModel gpu, string name, int promptLength, int split)
    {
        int vocabulary = gpu.Config.VocabularySize;
        int[] prompt = Tokens(promptLength, vocabulary, 2);
        var whole = new float[promptLength * vocabulary];
        var pieces = new float[promptLength * vocabulary];
        gpu.Forward(ForwardBatch.Sequence(prompt, 0, allLogits: true), gpu.CreateCache(1, 64), whole);
        var cache = gpu.CreateCache(1, 64);
        gpu.Forward(ForwardBatch.Sequence(prompt[..split], 0, allLogits: true), cache, pieces);
        gpu.Forward(ForwardBatch.Sequence(prompt[split..], split, allLogits: true), cache, pieces.AsSpan(split * vocabulary));
        double worst = 0;
        for (int i = split * vocabulary; i < whole.Length; i++) worst = Math.Max(worst, Math.Abs(whole[i] - pieces[i]));
        return new ConformanceResult($"{name} prefill of {promptLength} in two steps ({split} + {promptLength - split}) vs one (max |difference|)", worst, worst == 0);
    }

    /// <summary>Three sequences decoded together in one step against each decoded alone: the same bits.</summary>
    private static ConformanceResult CompareBatched(IDecoderModel gpu, string name)
    {
        const int sequences = 3;
        int vocabulary = gpu.Config.VocabularySize;
        var together = gpu.CreateCache(sequences, 32);
        var alone = gpu.CreateCache(sequences, 32);
        var scratch = new float[9 * vocabulary];
        // One prefill step of the three prompts (5, 7 and 9 tokens) into each cache.
        var prompts = Enumerable.Range(0, sequences).Select(s => Tokens(5 + 2 * s, vocabulary, 10 + s)).ToArray();
        var prefill = new ForwardBatch
        {
            Tokens = prompts.SelectMany(p => p).ToArray(),
            Positions = prompts.SelectMany(p => Enumerable.Range(0, p.Length)).ToArray(),
            Slots = prompts.SelectMany((p, s) => Enumerable.Repeat(s, p.Length)).ToArray(),
            LogitRows = [0],
        };
        foreach (var cache in new[] { together, alone }) gpu.Forward(prefill, cache, scratch);
        var batchedLogits = new float[sequences * vocabulary];
        var aloneLogits = new float[sequences * vocabulary];
        double worst = 0;
        for (int step = 0; step < 2; step++)
        {
            var tokens = Enumerable.Range(0, sequences).Select(s => (7 * s + 3 * step + 1) % vocabulary).ToArray();
            var positions = Enumerable.Range(0, sequences).Select(s => 5 + 2 * s + step).ToArray();
            gpu.Forward(new ForwardBatch { Tokens = tokens, Positions = positions, Slots = [0, 1, 2], LogitRows = [0, 1, 2] }, together, batchedLogits);
            for (int s = 0; s < sequences; s++)
                gpu.Forward(new ForwardBatch { Tokens = [tokens[s]], Positions = [positions[s]], Slots = [s], LogitRows = [0] }, alone,
                    aloneLogits.AsSpan(s * vocabulary, vocabulary));
            for (int i = 0; i < batchedLogits.Length; i++) worst = Math.Max(worst, Math.Abs(batchedLogits[i] - aloneLogits[i]));
        }
        return new ConformanceResult($"{name} batched decode of 3 sequences vs one by one (max |difference|)", worst, worst == 0);
    }

    /// <summary>max over rows of max|a − e| / max|e|.</summary>
    internal static double WorstRow(float[] expected, float[] actual, int rows, int width)
    {
        double worst = 0;
        for (int r = 0; r < rows; r++)
        {
            double scale = 0, error = 0;
            for (int i = r * width; i < (r + 1) * width; i++)
            {
                scale = Math.Max(scale, Math.Abs(expected[i]));
                error = Math.Max(error, Math.Abs((double)actual[i] - expected[i]));
                if (!float.IsFinite(actual[i])) error = double.PositiveInfinity;
            }
            // All-zero reference logits would make any output pass; a model this small never produces them.
            worst = Math.Max(worst, scale == 0 ? double.PositiveInfinity : error / scale);
        }
        return worst;
    }

    internal static int[] Tokens(int count, int vocabulary, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(vocabulary)).ToArray();
    }
}

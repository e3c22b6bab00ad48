using Dclm.Models;
using Dclm.Models.Adapters;
using Dclm.Tensors;

namespace Dclm.Gpu.Conformance;

/// <summary>
/// LoRA adapters on the device (<see cref="GpuDecoderModel.UseAdapters"/>) checked against the CPU engine's
/// <see cref="AdapterSet"/>, which is itself checked against merged weights, PEFT's layout and llama.cpp in its own
/// tests. The adapter's own sums are the CPU engine's bits (<see cref="LowRankMath"/>); with an f32 base the logits must
/// match within <see cref="GpuConformance.Tolerance"/>. With a quantized base they must match within
/// <see cref="QuantizedBaseTolerance"/>: an adapter reads the float activations (normed rows, attention output, SwiGLU),
/// whose last bits differ between the engines (their norms, softmax and exponentials sum in other orders), and adds them
/// into what the next quantized product re-quantizes to Q8_0, where one ulp can flip a level (about 1/127 of a block's
/// largest value). Without an adapter a quantized product reads only the levels, which hide those ulps. Two adapters (<see cref="SyntheticAdapters"/>) on one model: every target at rank 5 with open_lm's shared A,
/// and rank 67 on k, v (twice), up and down. Per model and base type: one sequence on the first adapter (a 12-token
/// prefill, three decode steps) within <see cref="GpuConformance.Tolerance"/> of the CPU engine; then three sequences in
/// one batch on the first adapter, the base and the second adapter (a 21-row prefill and two decode steps) against the
/// CPU engine, each decode step against the sequences decoded one by one (the same bits), the base rows against a device
/// model without adapters (the same bits), and the adapted rows against the base (they must move, or the checks above
/// prove nothing).
/// </summary>
public static class AdapterConformance
{
    /// <summary>The cases <c>dclm gpu-check</c> runs: dclm-tiny (fused projections) and Llama in f32 and quantized bases, Qwen2 (biases) in q8_0.</summary>
    public static readonly (string Model, GgmlType Type)[] Cases =
        [("dclm-tiny", GgmlType.F32), ("dclm-tiny", GgmlType.Q4_0), ("dclm-tiny", GgmlType.Q8_0), ("llama", GgmlType.F32), ("llama", GgmlType.Q4_0), ("qwen2", GgmlType.Q8_0)];

    /// <summary>
    /// Largest accepted |gpu − cpu| / max|cpu| over a row with a quantized base: a Q8_0 level flipped in one activation
    /// (seen: 2.0e-3 for Llama q4_0, 1.1e-2 for Qwen2 q8_0, on 64-wide models; the rows before the flip equal to the bit).
    /// </summary>
    public const double QuantizedBaseTolerance = 3e-2;

    /// <summary>Smallest largest-row change the adapters must make to the logits for the comparisons to mean anything.</summary>
    public const double MinimumMovement = 1e-2;

    /// <summary>The adapter checks of <paramref name="model"/> (a fixture under <paramref name="fixtures"/> or a synthetic graph) with its matrices in <paramref name="type"/>.</summary>
    public static IReadOnlyList<ConformanceResult> Run(GpuDevice device, string? fixtures, string model, GgmlType type)
    {
        using var memory = new HostWeights();
        var (config, weights, dispose) = GpuConformance.Load(fixtures, model, memory);
        try
        {
            var converted = memory.Convert(weights, type);
            using var cpu = new DecoderModel(config, converted);
            using var gpu = new GpuDecoderModel(config, converted, device);
            using var plain = new GpuDecoderModel(config, converted, device);
            var set = new AdapterSet(cpu);
            set.Add("every-target", SyntheticAdapters.EveryTarget(config, seed: 41));
            gpu.UseAdapters(set);
            // Added after the device model attached, as POST /v1/lora-adapters does while a server runs.
            set.Add("wide", SyntheticAdapters.Wide(config, seed: 42));
            string name = $"{model} {GgmlTypeInfo.Name(type)} + LoRA";
            double tolerance = type == GgmlType.F32 ? GpuConformance.Tolerance : QuantizedBaseTolerance;
            set.UseEverywhere(1);
            var results = new List<ConformanceResult> { GpuConformance.CompareLogits(cpu, gpu, $"{name} (every target, rank 5)", tolerance: tolerance) };
            set.UseEverywhere(0);
            results.AddRange(CompareMixedBatch(cpu, gpu, plain, set, name, tolerance));
            return results;
        }
        finally { dispose?.Dispose(); }
    }

    /// <summary>Slots 0, 1, 2 on adapter 1, the base and adapter 2, prefilled together (5, 7 and 9 tokens) and decoded together.</summary>
    private static List<ConformanceResult> CompareMixedBatch(DecoderModel cpu, GpuDecoderModel gpu, GpuDecoderModel plain, AdapterSet set, string name,
        double tolerance)
    {
        const int sequences = 3;
        int[] adapterOf = [1, 0, 2];
        for (int s = 0; s < sequences; s++) set.Assign(s, adapterOf[s]);
        int vocabulary = cpu.Config.VocabularySize;
        var prompts = Enumerable.Range(0, sequences).Select(s => GpuConformance.Tokens(5 + 2 * s, vocabulary, 30 + s)).ToArray();
        var prefill = new ForwardBatch
        {
            Tokens = prompts.SelectMany(p => p).ToArray(),
            Positions = prompts.SelectMany(p => Enumerable.Range(0, p.Length)).ToArray(),
            Slots = prompts.SelectMany((p, s) => Enumerable.Repeat(s, p.Length)).ToArray(),
            LogitRows = Enumerable.Range(0, prompts.Sum(p => p.Length)).ToArray(),
        };
        var cpuCache = cpu.CreateCache(sequences, 32);
        var together = gpu.CreateCache(sequences, 32);
        var alone = gpu.CreateCache(sequences, 32);
        var plainCache = plain.CreateCache(sequences, 32);
        int rows = prefill.Count;
        float[] expected = new float[rows * vocabulary], actual = new float[rows * vocabulary], bare = new float[rows * vocabulary];
        cpu.Forward(prefill, cpuCache, expected);
        gpu.Forward(prefill, together, actual);
        gpu.Forward(prefill, alone, new float[rows * vocabulary]);
        plain.Forward(prefill, plainCache, bare);
        double worst = GpuConformance.WorstRow(expected, actual, rows, vocabulary), baseDifference = 0, movement = double.PositiveInfinity, batchDifference = 0;
        void CompareWithBase(int firstRow, int count, int slotOfRows)
        {
            for (int r = firstRow; r < firstRow + count; r++)
            {
                var row = actual.AsSpan(r * vocabulary, vocabulary);
                var reference = bare.AsSpan(r * vocabulary, vocabulary);
                if (adapterOf[slotOfRows] == 0)
                    for (int i = 0; i < vocabulary; i++) baseDifference = Math.Max(baseDifference, Math.Abs(row[i] - reference[i]));
                else movement = Math.Min(movement, GpuConformance.WorstRow(reference.ToArray(), row.ToArray(), 1, vocabulary));
            }
        }
        for (int s = 0, start = 0; s < sequences; start += prompts[s].Length, s++) CompareWithBase(start, prompts[s].Length, s);

        var decoded = new float[sequences * vocabulary];
        for (int step = 0; step < 2; step++)
        {
            var tokens = Enumerable.Range(0, sequences).Select(s => (11 * s + 5 * step + 3) % vocabulary).ToArray();
            var positions = Enumerable.Range(0, sequences).Select(s => prompts[s].Length + step).ToArray();
            var batch = new ForwardBatch { Tokens = tokens, Positions = positions, Slots = [0, 1, 2], LogitRows = [0, 1, 2] };
            cpu.Forward(batch, cpuCache, expected.AsSpan(0, sequences * vocabulary));
            gpu.Forward(batch, together, actual.AsSpan(0, sequences * vocabulary));
            plain.Forward(batch, plainCache, bare.AsSpan(0, sequences * vocabulary));
            worst = Math.Max(worst, GpuConformance.WorstRow(expected, actual, sequences, vocabulary));
            for (int s = 0; s < sequences; s++)
            {
                gpu.Forward(new ForwardBatch { Tokens = [tokens[s]], Positions = [positions[s]], Slots = [s], LogitRows = [0] }, alone,
                    decoded.AsSpan(s * vocabulary, vocabulary));
                CompareWithBase(s, 1, s);
            }
            for (int i = 0; i < decoded.Length; i++) batchDifference = Math.Max(batchDifference, Math.Abs(decoded[i] - actual[i]));
        }
        string batchName = $"{name}, a batch of adapter 1, the base and adapter 2";
        return
        [
            new($"{batchName} (prefill 21, decode 2) vs CPU engine (tolerance {tolerance:G})", worst, worst <= tolerance),
            new($"{batchName}: decode vs one by one (max |difference|)", batchDifference, batchDifference == 0),
            new($"{batchName}: base rows vs a model without adapters (max |difference|)", baseDifference, baseDifference == 0),
            new($"{batchName}: smallest change the adapters make to a row (must be at least {MinimumMovement:G})", movement, movement >= MinimumMovement),
        ];
    }
}

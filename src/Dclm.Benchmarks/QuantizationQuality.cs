using Dclm.Checkpoints;
using Dclm.Models;
using Dclm.Tensors;

namespace Dclm.Benchmarks;

/// <summary>How far one variant's next-token distributions are from the f32 model's on the same tokens.</summary>
public sealed record QualityRow(string Variant, double MeanKlDivergence, double MaxKlDivergence, double TopOneAgreement, double Perplexity);

/// <summary>
/// The quantization quality report: the model converted to each weight type (and run with an int8 KV
/// cache), scored on the same token sequence against f32 weights with an f32 cache. KL(p_f32 ‖ p_variant)
/// in nats per position, top-1 agreement, and each variant's own perplexity on the sequence.
/// </summary>
public static class QuantizationQuality
{
    /// <summary>Weight types the report covers by default.</summary>
    public static readonly GgmlType[] DefaultTypes = [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K];

    public static IReadOnlyList<QualityRow> Measure(string modelPath, int[] tokens, IReadOnlyList<GgmlType> types, string workDirectory,
        IProgress<string> progress, CancellationToken cancellation)
    {
        if (tokens.Length < 2) throw new ArgumentException("the quality report needs at least two tokens");
        Directory.CreateDirectory(workDirectory);
        var rows = new List<QualityRow>();
        float[] reference;
        using (var model = ModelLoader.Load(modelPath))
        {
            if (tokens.Length > model.Config.ContextLength) tokens = tokens[..model.Config.ContextLength];
            progress.Report("f32 reference");
            string f32 = Path.Combine(workDirectory, "reference-f32.gguf");
            GgufExporter.Export(model, f32, GgmlType.F32, cancellation: cancellation);
            using (var exact = ModelLoader.Load(f32)) reference = exact.Model.PromptLogits(tokens, cancellation: cancellation);
            rows.Add(Compare("f32", reference, reference, tokens, exact: true));
            progress.Report("f32 weights, int8 KV cache");
            using (var exact = ModelLoader.Load(f32)) rows.Add(Compare("f32 + int8 KV", reference, exact.Model.PromptLogits(tokens, KvCacheType.Int8, cancellation), tokens));
            File.Delete(f32);
            foreach (var type in types)
            {
                cancellation.ThrowIfCancellationRequested();
                progress.Report(GgmlTypeInfo.Name(type));
                string path = Path.Combine(workDirectory, $"variant-{GgmlTypeInfo.Name(type)}.gguf");
                GgufExporter.Export(model, path, type, cancellation: cancellation);
                using (var variant = ModelLoader.Load(path))
                    rows.Add(Compare(GgmlTypeInfo.Name(type), reference, variant.Model.PromptLogits(tokens, cancellation: cancellation), tokens));
                File.Delete(path);
            }
        }
        return rows;
    }

    private static QualityRow Compare(string name, float[] reference, float[] variant, int[] tokens, bool exact = false)
    {
        int positions = tokens.Length, v = reference.Length / positions;
        double klSum = 0, klMax = 0, nll = 0;
        int agree = 0;
        var p = new double[v];
        var q = new double[v];
        for (int t = 0; t < positions; t++)
        {
            LogSoftmax(reference.AsSpan(t * v, v), p);
            LogSoftmax(variant.AsSpan(t * v, v), q);
            double kl = 0;
            for (int i = 0; i < v; i++) kl += Math.Exp(p[i]) * (p[i] - q[i]);
            kl = exact ? 0 : Math.Max(0, kl);
            klSum += kl;
            klMax = Math.Max(klMax, kl);
            if (ArgMax(p) == ArgMax(q)) agree++;
            // Perplexity of the variant on the sequence itself: position t predicts token t + 1.
            if (t + 1 < positions) nll -= q[tokens[t + 1]];
        }
        return new QualityRow(name, klSum / positions, klMax, (double)agree / positions, Math.Exp(nll / (positions - 1)));
    }

    private static void LogSoftmax(ReadOnlySpan<float> logits, double[] destination)
    {
        double max = double.NegativeInfinity;
        foreach (float x in logits) max = Math.Max(max, x);
        double sum = 0;
        foreach (float x in logits) sum += Math.Exp(x - max);
        double log = max + Math.Log(sum);
        for (int i = 0; i < logits.Length; i++) destination[i] = logits[i] - log;
    }

    private static int ArgMax(double[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}

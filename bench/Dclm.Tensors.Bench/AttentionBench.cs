using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;

namespace Dclm.Tensors.Bench;

/// <summary>
/// Causal attention of a Qwen3-0.6B-shaped layer (16 query heads of 128, 8 KV heads, a cache in blocks of sixteen
/// positions) on one thread, thread CPU time: one (token, head) at a time (scores, softmax, weighted values), as before
/// tiles and with today's weighted-value kernel, against <see cref="AttentionTile"/> (two heads × eight positions per tile, online softmax). Prefill of
/// 512 tokens, and one decoded token at position 511. GMAC/s counts q·k and p·v multiply-adds over visible positions.
/// </summary>
internal static class AttentionBench
{
    private const int Heads = 16, KvHeads = 8, HeadDim = 128, Group = Heads / KvHeads, KvDim = KvHeads * HeadDim, Block = 16;

    public static void Run(string[] args)
    {
        int tokens = args.Length > 1 ? int.Parse(args[1]) : 512;
        var random = new Random(1);
        float[] Fill(int n) => Enumerable.Range(0, n).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var keys = Fill(tokens * KvDim);
        var values = Fill(tokens * KvDim);
        var queries = Fill(tokens * Heads * HeadDim);
        var output = new float[tokens * Heads * HeadDim];
        Console.WriteLine($"attention, {Heads} heads of {HeadDim}, {KvHeads} KV heads, one thread, thread CPU time");
        Console.WriteLine($"{"case",-28} {"ms",9} {"GMAC/s",8}");
        foreach (var (name, first) in new[] { ($"prefill {tokens}", 0), ($"decode at {tokens - 1}", tokens - 1) })
        {
            double macs = 0;
            for (int t = first; t < tokens; t++) macs += 2.0 * Heads * (t + 1) * HeadDim;
            double before = Time(() => PerHead(keys, values, queries, output, first, tokens, oneChain: true));
            double perHead = Time(() => PerHead(keys, values, queries, output, first, tokens, oneChain: false));
            double tiled = Time(() => Tiled(keys, values, queries, output, first, tokens));
            Console.WriteLine($"{name + ", before",-28} {before,9:F2} {macs / before / 1e6,8:F1}");
            Console.WriteLine($"{name + ", per (token, head)",-28} {perHead,9:F2} {macs / perHead / 1e6,8:F1}");
            Console.WriteLine($"{name + ", tiles",-28} {tiled,9:F2} {macs / tiled / 1e6,8:F1}");
        }
    }

    private static void PerHead(float[] keys, float[] values, float[] queries, float[] output, int first, int tokens, bool oneChain)
    {
        var scores = new float[tokens];
        float scale = 1f / MathF.Sqrt(HeadDim);
        for (int t = first; t < tokens; t++)
            for (int h = 0; h < Heads; h++)
            {
                int kvOffset = h / Group * HeadDim;
                var q = queries.AsSpan((t * Heads + h) * HeadDim, HeadDim);
                for (int p = 0, run; p <= t; p += run)
                {
                    run = Math.Min(Block - p % Block, t + 1 - p);
                    AttentionScores.Compute(q, keys.AsSpan(p * KvDim + kvOffset), KvDim, run, scores.AsSpan(p, run));
                }
                var s = scores.AsSpan(0, t + 1);
                for (int i = 0; i <= t; i++) s[i] *= scale;
                Softmax.InPlace(s);
                var o = output.AsSpan((t * Heads + h) * HeadDim, HeadDim);
                o.Clear();
                for (int p = 0, run; p <= t; p += run)
                {
                    run = Math.Min(Block - p % Block, t + 1 - p);
                    if (oneChain) OneChainPerColumns(values.AsSpan(p * KvDim + kvOffset), run, s.Slice(p, run), o);
                    else AttentionValues.AddWeighted(values.AsSpan(p * KvDim + kvOffset), KvDim, run, s.Slice(p, run), o);
                }
            }
    }

    /// <summary>The weighted values as they were before tiles: one 512-bit accumulator per sixteen columns across the positions.</summary>
    private static void OneChainPerColumns(ReadOnlySpan<float> values, int count, ReadOnlySpan<float> weights, Span<float> output)
    {
        for (int c = 0; c + 16 <= HeadDim; c += 16)
        {
            var sum = System.Runtime.Intrinsics.Vector512.Create(output.Slice(c, 16));
            for (int i = 0; i < count; i++)
                sum = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(System.Runtime.Intrinsics.Vector512.Create(values.Slice(i * KvDim + c, 16)),
                    System.Runtime.Intrinsics.Vector512.Create(weights[i]), sum);
            System.Runtime.Intrinsics.Vector512.CopyTo(sum, output.Slice(c, 16));
        }
    }

    private static void Tiled(float[] keys, float[] values, float[] queries, float[] output, int first, int tokens)
    {
        const int perTile = 8;
        var tile = new AttentionTile(perTile * Group, HeadDim);
        float scale = 1f / MathF.Sqrt(HeadDim);
        for (int kv = 0; kv < KvHeads; kv++)
            for (int t0 = first; t0 < tokens; t0 += perTile)
            {
                int count = Math.Min(perTile, tokens - t0), last = t0 + count - 1;
                tile.Start(count * Group, scale);
                for (int k = 0; k < count; k++)
                    for (int g = 0; g < Group; g++)
                        tile.SetRow(k * Group + g, queries.AsSpan(((t0 + k) * Heads + kv * Group + g) * HeadDim, HeadDim), t0 + k, 0);
                for (int p = 0, run; p <= last; p += run)
                {
                    run = Math.Min(Block - p % Block, last + 1 - p);
                    tile.Attend(keys.AsSpan(p * KvDim + kv * HeadDim), values.AsSpan(p * KvDim + kv * HeadDim), KvDim, p, run);
                }
                for (int k = 0; k < count; k++)
                    for (int g = 0; g < Group; g++)
                        tile.Finish(k * Group + g, output.AsSpan(((t0 + k) * Heads + kv * Group + g) * HeadDim, HeadDim));
            }
    }

    private static double Time(Action action)
    {
        action();
        double best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            int calls = 0;
            double start = ThreadClock.Milliseconds(), now;
            do { action(); calls++; } while ((now = ThreadClock.Milliseconds()) - start < 200);
            best = Math.Min(best, (now - start) / calls);
        }
        return best;
    }
}

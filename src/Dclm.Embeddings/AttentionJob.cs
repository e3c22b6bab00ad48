using System.Numerics.Tensors;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;

namespace Dclm.Embeddings;

/// <summary>
/// Bidirectional multi-head attention over packed sequences, one (sequence, head) pair at a time, pairs
/// claimed by the pool's threads. Per pair: context = softmax(Q·Kᵀ / √d) · V, the two products run by
/// <see cref="MatMul"/> on per-thread copies of the head's columns (inside a pool job they run inline).
/// </summary>
internal sealed unsafe class AttentionJob : ComputeJob
{
    private readonly BertConfig config;
    private readonly float scale;
    private ThreadScratch[] scratch = [];
    private IReadOnlyList<int[]> sequences = [];
    private int[] starts = [];
    private float[] queryKeyValue = [];
    private float[] context = [];
    private ComputePool pool = ComputePool.Shared;
    private int next;

    public AttentionJob(BertConfig config)
    {
        this.config = config;
        scale = 1f / MathF.Sqrt(config.HeadWidth);
    }

    /// <summary>context (tokens, width) from queryKeyValue (tokens, 3·width) for the packed sequences.</summary>
    public void Run(ComputePool pool, IReadOnlyList<int[]> sequences, float[] queryKeyValue, float[] context)
    {
        this.pool = pool;
        this.sequences = sequences;
        this.queryKeyValue = queryKeyValue;
        this.context = context;
        if (starts.Length < sequences.Count + 1) starts = new int[sequences.Count + 1];
        for (int i = 0; i < sequences.Count; i++) starts[i + 1] = starts[i] + sequences[i].Length;
        if (scratch.Length < pool.Threads) Array.Resize(ref scratch, pool.Threads);
        next = 0;
        if (pool.Threads == 1 || sequences.Count * config.Heads == 1) Execute(0, 1);
        else pool.Run(this);
    }

    public override void Execute(int thread, int threads)
    {
        var own = scratch[thread] ??= new ThreadScratch();
        int pairs = sequences.Count * config.Heads;
        for (int pair = Interlocked.Increment(ref next) - 1; pair < pairs; pair = Interlocked.Increment(ref next) - 1)
            RunPair(pair / config.Heads, pair % config.Heads, own);
    }

    private void RunPair(int sequence, int head, ThreadScratch s)
    {
        int n = sequences[sequence].Length, d = config.HeadWidth, w = config.Width, start = starts[sequence];
        s.Ensure(n, d);
        // Gather this head's columns: Q (n, d), K (n, d) and Vᵀ (d, n).
        for (int t = 0; t < n; t++)
        {
            var row = queryKeyValue.AsSpan((start + t) * 3 * w, 3 * w);
            row.Slice(head * d, d).CopyTo(s.Query.AsSpan(t * d, d));
            row.Slice(w + head * d, d).CopyTo(s.Key.AsSpan(t * d, d));
            var value = row.Slice(2 * w + head * d, d);
            for (int k = 0; k < d; k++) s.ValueTransposed[k * n + t] = value[k];
        }
        fixed (float* key = s.Key)
        fixed (float* valueTransposed = s.ValueTransposed)
        {
            // scores (n, n) = Q · Kᵀ; probabilities row by row; out (n, d) = P · V.
            MatMul.Multiply(s.Query, n, new WeightMatrix((byte*)key, GgmlType.F32, n, d), s.Scores, pool);
            for (int i = 0; i < n; i++)
            {
                var row = s.Scores.AsSpan(i * n, n);
                TensorPrimitives.Multiply(row, scale, row);
                Softmax.InPlace(row);
            }
            MatMul.Multiply(s.Scores, n, new WeightMatrix((byte*)valueTransposed, GgmlType.F32, d, n), s.Output, pool);
        }
        for (int t = 0; t < n; t++) s.Output.AsSpan(t * d, d).CopyTo(context.AsSpan((start + t) * w + head * d, d));
    }

    private sealed class ThreadScratch
    {
        public float[] Query = [], Key = [], ValueTransposed = [], Scores = [], Output = [];

        public void Ensure(int n, int d)
        {
            if (Scores.Length >= n * n && Query.Length >= n * d) return;
            Query = new float[n * d];
            Key = new float[n * d];
            ValueTransposed = new float[n * d];
            Scores = new float[n * n];
            Output = new float[n * d];
        }
    }
}

namespace Dclm.Data.FastText;

/// <summary>
/// The loss-specific output layer: turns the hidden vector into the k best (log-probability, label) pairs
/// exactly as fastText's <c>Loss::predict</c> does, including its <c>log(p + 1e-5)</c> scores.
/// </summary>
internal abstract class FastTextOutput(FastTextMatrix output)
{
    protected FastTextMatrix Output => output;

    public static FastTextOutput Create(FastTextLossKind loss, FastTextMatrix output, FastTextDictionary dictionary) => loss switch
    {
        FastTextLossKind.Softmax => new SoftmaxOutput(output),
        FastTextLossKind.HierarchicalSoftmax => new HierarchicalSoftmaxOutput(output, Enumerable.Range(0, dictionary.LabelCount).Select(dictionary.LabelFrequency).ToArray()),
        _ => new SigmoidOutput(output),
    };

    /// <summary>fastText's <c>std_log</c>.</summary>
    public static float Log(float x) => (float)Math.Log(x + 1e-5);

    /// <summary>Fills <paramref name="heap"/> with at most k (score, label) pairs (unsorted; the caller sorts).</summary>
    public abstract void Predict(ReadOnlySpan<float> hidden, int k, float threshold, Span<float> scratch, PredictionHeap heap);

    /// <summary><c>findKBest</c> over per-label probabilities.</summary>
    protected static void KeepBest(ReadOnlySpan<float> probabilities, int k, float threshold, PredictionHeap heap)
    {
        for (int i = 0; i < probabilities.Length; i++)
        {
            if (probabilities[i] < threshold) continue;
            float score = Log(probabilities[i]);
            if (heap.Count == k && score < heap.Worst) continue;
            heap.Add(score, i, k);
        }
    }
}

/// <summary>Softmax over W·h.</summary>
internal sealed class SoftmaxOutput(FastTextMatrix output) : FastTextOutput(output)
{
    public override void Predict(ReadOnlySpan<float> hidden, int k, float threshold, Span<float> scratch, PredictionHeap heap)
    {
        var probabilities = scratch[..(int)Output.Rows];
        for (int i = 0; i < probabilities.Length; i++) probabilities[i] = Output.Dot(hidden, i);
        float max = probabilities[0], sum = 0;
        foreach (var value in probabilities) max = MathF.Max(value, max);
        for (int i = 0; i < probabilities.Length; i++)
        {
            probabilities[i] = (float)Math.Exp(probabilities[i] - max);
            sum += probabilities[i];
        }
        for (int i = 0; i < probabilities.Length; i++) probabilities[i] /= sum;
        KeepBest(probabilities, k, threshold, heap);
    }
}

/// <summary>
/// One-vs-all and negative sampling: an independent sigmoid per label, through fastText's 512-entry sigmoid
/// table over [-8, 8] (its step is visible in the probabilities, so it is reproduced exactly).
/// </summary>
internal sealed class SigmoidOutput(FastTextMatrix output) : FastTextOutput(output)
{
    private const int TableSize = 512;
    private const int MaximumInput = 8;
    private static readonly float[] Table = Enumerable.Range(0, TableSize + 1).Select(i =>
    {
        float x = (float)(i * 2 * MaximumInput) / TableSize - MaximumInput;
        return (float)(1.0 / (1.0 + MathF.Exp(-x)));
    }).ToArray();

    /// <summary>fastText's <c>Loss::sigmoid</c>, float arithmetic as in C++.</summary>
    public static float Sigmoid(float x)
    {
        if (x < -MaximumInput) return 0f;
        if (x > MaximumInput) return 1f;
        long index = (long)((x + MaximumInput) * TableSize / MaximumInput / 2);
        return Table[index];
    }

    public override void Predict(ReadOnlySpan<float> hidden, int k, float threshold, Span<float> scratch, PredictionHeap heap)
    {
        var probabilities = scratch[..(int)Output.Rows];
        for (int i = 0; i < probabilities.Length; i++) probabilities[i] = Sigmoid(Output.Dot(hidden, i));
        KeepBest(probabilities, k, threshold, heap);
    }
}

/// <summary>
/// Hierarchical softmax: a Huffman tree over the label counts (fastText's <c>buildTree</c>), searched depth-first
/// with the branch bound of its <c>dfs</c>; each inner node's output row gives the probability of going right.
/// </summary>
internal sealed class HierarchicalSoftmaxOutput : FastTextOutput
{
    private readonly int _labels;
    private readonly int[] _left, _right;

    public HierarchicalSoftmaxOutput(FastTextMatrix output, long[] counts) : base(output)
    {
        _labels = counts.Length;
        int nodes = Math.Max(1, 2 * _labels - 1);
        _left = new int[nodes];
        _right = new int[nodes];
        var count = new long[nodes];
        Array.Fill(_left, -1);
        Array.Fill(_right, -1);
        Array.Fill(count, (long)1e15);
        Array.Copy(counts, count, _labels);
        int leaf = _labels - 1, node = _labels;
        for (int i = _labels; i < 2 * _labels - 1; i++)
        {
            int first = leaf >= 0 && count[leaf] < count[node] ? leaf-- : node++;
            int second = leaf >= 0 && count[leaf] < count[node] ? leaf-- : node++;
            _left[i] = first;
            _right[i] = second;
            count[i] = count[first] + count[second];
        }
    }

    public override void Predict(ReadOnlySpan<float> hidden, int k, float threshold, Span<float> scratch, PredictionHeap heap)
    {
        if (_labels == 0) return;
        Search(k, threshold, 2 * _labels - 2, 0f, heap, hidden);
    }

    private void Search(int k, float threshold, int node, float score, PredictionHeap heap, ReadOnlySpan<float> hidden)
    {
        if (score < Log(threshold)) return;
        if (heap.Count == k && score < heap.Worst) return;
        if (_left[node] == -1 && _right[node] == -1)
        {
            heap.Add(score, node, k);
            return;
        }
        float f = Output.Dot(hidden, node - _labels);
        f = (float)(1.0 / (1 + MathF.Exp(-f)));
        Search(k, threshold, _left[node], score + Log((float)(1.0 - f)), heap, hidden);
        Search(k, threshold, _right[node], score + Log(f), heap, hidden);
    }
}

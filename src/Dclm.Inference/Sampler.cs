using Dclm.Inference.Constraints;
using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Dclm.Tensors.Ops;

namespace Dclm.Inference;

/// <summary>
/// Chooses tokens from logits under <see cref="SamplingOptions"/>. One sampler per sequence; it keeps
/// its random state and, once a draw or a penalty needs them, three vocabulary-sized buffers rented from
/// the shared array pool (greedy decoding without penalties needs none), so sampling allocates nothing
/// per token and a server does not put 600 KB per request on the large-object heap. Dispose returns them.
/// </summary>
public sealed class Sampler : IDisposable
{
    private readonly SamplingOptions _options;
    private readonly int _vocabulary;
    // Empty until rented.
    private int[] _candidates = [];
    private float[] _scores = [];
    private int[] _occurrences = [];
    private SplitMix64 _random;
    private Comparison<int>? _compare;

    private readonly ITokenConstraint? _constraint;

    /// <param name="options">How tokens are chosen (valid by construction).</param>
    /// <param name="vocabularySize">The model's vocabulary size.</param>
    /// <param name="constraint">Limits which tokens may come next (JSON mode); applied after biases and penalties.</param>
    public Sampler(SamplingOptions options, int vocabularySize, ITokenConstraint? constraint = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        _options = options;
        _vocabulary = vocabularySize;
        _random = new SplitMix64(options.Seed);
        _constraint = constraint;
    }

    /// <summary>Returns the buffers to the pool; a later call to <see cref="Sample"/> rents them again.</summary>
    public void Dispose()
    {
        if (_scores.Length == 0) return;
        ArrayPool<float>.Shared.Return(_scores);
        ArrayPool<int>.Shared.Return(_candidates);
        ArrayPool<int>.Shared.Return(_occurrences);
        (_scores, _candidates, _occurrences, _compare) = ([], [], [], null);
    }

    private float[] RentBuffers()
    {
        if (_scores.Length != 0) return _scores;
        _candidates = ArrayPool<int>.Shared.Rent(_vocabulary);
        _occurrences = ArrayPool<int>.Shared.Rent(_vocabulary);
        // Penalties keep every count at zero between calls; a rented array may hold anything.
        Array.Clear(_occurrences, 0, _vocabulary);
        return _scores = ArrayPool<float>.Shared.Rent(_vocabulary);
    }

    /// <summary>Picks the next token given the logits of the last position and the tokens so far.</summary>
    public int Sample(ReadOnlySpan<float> logits, ReadOnlySpan<int> history)
    {
        int next = Choose(logits, history);
        _constraint?.Accept(next);
        return next;
    }

    private int Choose(ReadOnlySpan<float> logits, ReadOnlySpan<int> history)
    {
        int vocabulary = _vocabulary;
        if (logits.Length < vocabulary) throw new ArgumentException($"logits have {logits.Length} values, the vocabulary has {vocabulary}");
        bool penalised = (_options.RepetitionPenalty != 1f || _options.FrequencyPenalty != 0 || _options.PresencePenalty != 0)
            && _options.RepetitionWindow != 0 && !history.IsEmpty;
        bool biased = _options.LogitBias.Count > 0;
        // Greedy without a penalty, bias or constraint reads the logits in place: no copy of the vocabulary per token.
        if (_options.Temperature <= 0 && !penalised && !biased && _constraint is null) return ArgMax(logits[..vocabulary]);
        var scores = RentBuffers();
        logits[..vocabulary].CopyTo(scores);
        if (biased)
            foreach (var (id, bias) in _options.LogitBias)
                if ((uint)id < (uint)vocabulary) scores[id] += bias;
        if (penalised) ApplyPenalties(history);
        if (_constraint is not null)
        {
            _constraint.Mask(scores.AsSpan(0, vocabulary));
            if (float.IsNegativeInfinity(VectorMath.Max(scores.AsSpan(0, vocabulary))))
                throw new InvalidOperationException("the constraint allows no token here");
        }
        if (_options.Temperature <= 0) return ArgMax(scores.AsSpan(0, vocabulary));
        if (_options.TopK == 0 && _options.TopP >= 1) return DrawFromAll(scores.AsSpan(0, vocabulary));

        // Candidates sorted by score, best first; top-k bounds how many we sort.
        int count = vocabulary;
        double total;
        int k;
        if (_options.TopK > 0)
        {
            for (int i = 0; i < count; i++) _candidates[i] = i;
            k = Math.Min(_options.TopK, count);
            SortTop(k);
            total = 0;
            float best = _scores[_candidates[0]];
            for (int i = 0; i < k; i++) total += Math.Exp(_scores[_candidates[i]] - best);
        }
        else
        {
            // Top-p alone: the nucleus is almost always a few hundred tokens at most, so select the best
            // 64, then 1,024, and sort the whole vocabulary (milliseconds at 50k) only when those do not
            // yet hold top_p of the probability.
            float best = VectorMath.Max(scores.AsSpan(0, vocabulary));
            // Weights into the candidates' spare buffer (the scores are still needed for the order).
            var weights = MemoryMarshal.Cast<int, float>(_candidates.AsSpan(0, vocabulary));
            VectorMath.ExpShifted(scores.AsSpan(0, vocabulary), best, weights);
            total = VectorMath.Sum(weights);
            for (int i = 0; i < count; i++) _candidates[i] = i;
            for (k = Math.Min(64, count); ; k = k * 16 >= count / 8 ? count : k * 16)
            {
                SortTop(k);
                double mass = 0;
                for (int i = 0; i < k; i++) mass += Math.Exp(_scores[_candidates[i]] - best);
                if (k == count || mass / total >= _options.TopP) break;
                for (int i = 0; i < count; i++) _candidates[i] = i;
            }
        }
        count = k;

        // Probabilities at temperature 1 decide top-p and min-p, as llama.cpp does.
        float max = _scores[_candidates[0]];
        if (_options.TopP < 1)
        {
            double cumulative = 0;
            for (int i = 0; i < count; i++)
            {
                cumulative += Math.Exp(_scores[_candidates[i]] - max) / total;
                if (cumulative >= _options.TopP) { count = i + 1; break; }
            }
        }
        if (_options.MinP > 0)
        {
            // p_i ≥ min_p · p_max  ⇔  s_i − max ≥ ln(min_p)
            double threshold = Math.Log(_options.MinP);
            int kept = 1;
            while (kept < count && _scores[_candidates[kept]] - max >= threshold) kept++;
            count = kept;
        }

        double sum = 0;
        for (int i = 0; i < count; i++) sum += Math.Exp((_scores[_candidates[i]] - max) / _options.Temperature);
        double target = _random.NextDouble() * sum;
        double running = 0;
        for (int i = 0; i < count; i++)
        {
            running += Math.Exp((_scores[_candidates[i]] - max) / _options.Temperature);
            if (running > target) return _candidates[i];
        }
        return _candidates[count - 1];
    }

    /// <summary>
    /// A draw over the whole vocabulary (no top-k, no top-p: OpenAI's defaults), which needs no order:
    /// weights e^((s − max)/T), those below min-p's bound zeroed, then one scan in id order. Sorting the
    /// vocabulary for it took milliseconds per token, more than a small model's whole forward step.
    /// </summary>
    private int DrawFromAll(Span<float> scores)
    {
        float max = VectorMath.Max(scores);
        // e^((s − max)/T) = e^(s/T − max/T)
        TensorPrimitives.Multiply(scores, 1f / _options.Temperature, scores);
        VectorMath.ExpShifted(scores, max / _options.Temperature, scores);
        if (_options.MinP > 0)
        {
            // p_i ≥ min_p · p_max at temperature 1  ⇔  weight_i ≥ min_p^(1/T).
            float bound = (float)Math.Pow(_options.MinP, 1.0 / _options.Temperature);
            for (int i = 0; i < scores.Length; i++) if (scores[i] < bound) scores[i] = 0;
        }
        double sum = VectorMath.Sum(scores);
        double target = _random.NextDouble() * sum, running = 0;
        int last = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (scores[i] == 0) continue;
            running += scores[i];
            last = i;
            if (running > target) return i;
        }
        return last;
    }

    /// <summary>
    /// llama.cpp's penalties over the window: each distinct token's logit is divided (if positive) or
    /// multiplied (if not) by the repetition penalty once, then lowered by count · frequency + presence.
    /// </summary>
    private void ApplyPenalties(ReadOnlySpan<int> history)
    {
        var recent = history.Length > _options.RepetitionWindow ? history[^_options.RepetitionWindow..] : history;
        foreach (int token in recent)
            if ((uint)token < (uint)_vocabulary) _occurrences[token]++;
        float repetition = _options.RepetitionPenalty, frequency = _options.FrequencyPenalty, presence = _options.PresencePenalty;
        foreach (int token in recent)
        {
            if ((uint)token >= (uint)_vocabulary || _occurrences[token] == 0) continue;
            float s = _scores[token];
            s = s > 0 ? s / repetition : s * repetition;
            _scores[token] = s - _occurrences[token] * frequency - presence;
            // Zeroed on first visit, so a repeated token is penalised once and the counts are clean for the next call.
            _occurrences[token] = 0;
        }
    }

    /// <summary>Puts the k best candidates, by descending score and then ascending id, at the front.</summary>
    private void SortTop(int k)
    {
        var order = new BestFirst(_scores);
        if (k >= _vocabulary / 8)
        {
            // A Comparison made once (per rented buffer): sorting with the struct comparer would box it and make a delegate per call.
            _compare ??= new BestFirst(_scores).Compare;
            _candidates.AsSpan(0, _vocabulary).Sort(_compare);
            return;
        }
        // Partial selection: a min-heap of the best k so far, its root the worst of them. Ids arrive
        // in ascending order, so a later id only displaces the root with a strictly higher score.
        var heap = _candidates.AsSpan(0, k);
        var scores = _scores;
        for (int id = 0; id < k; id++)
        {
            int at = id;
            heap[at] = id;
            while (at > 0)
            {
                int parent = (at - 1) / 2;
                if (!order.IsWorse(heap[at], heap[parent])) break;
                (heap[at], heap[parent]) = (heap[parent], heap[at]);
                at = parent;
            }
        }
        for (int id = k; id < _vocabulary; id++)
        {
            if (!(scores[id] > scores[heap[0]])) continue;
            heap[0] = id;
            SiftDown(heap, 0, order);
        }
        // Heap sort: the worst left goes last each time, so the heap ends best first (the order is total: no ties).
        for (int end = k - 1; end > 0; end--)
        {
            (heap[0], heap[end]) = (heap[end], heap[0]);
            SiftDown(heap[..end], 0, order);
        }
    }

    private static void SiftDown(Span<int> heap, int at, BestFirst order)
    {
        while (true)
        {
            int child = 2 * at + 1;
            if (child >= heap.Length) break;
            if (child + 1 < heap.Length && order.IsWorse(heap[child + 1], heap[child])) child++;
            if (!order.IsWorse(heap[child], heap[at])) break;
            (heap[at], heap[child]) = (heap[child], heap[at]);
            at = child;
        }
    }

    /// <summary>Orders token ids by descending score, then ascending id.</summary>
    private readonly struct BestFirst(float[] scores) : IComparer<int>
    {
        public int Compare(int a, int b) => scores[a] != scores[b] ? scores[b].CompareTo(scores[a]) : a.CompareTo(b);

        public bool IsWorse(int a, int b) => scores[a] != scores[b] ? scores[a] < scores[b] : a > b;
    }

    /// <summary>Index of the largest value; ties go to the lowest index, and NaNs never win (a NaN first value does).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return 0;
        if (!Vector512.IsHardwareAccelerated || values.Length < 64) return ArgMaxScalar(values);
        ref float start = ref MemoryMarshal.GetReference(values);
        int i = 0, last = values.Length - 16;
        var max = Vector512.LoadUnsafe(ref start);
        for (i = 16; i <= last; i += 16) max = Vector512.Max(max, Vector512.LoadUnsafe(ref start, (nuint)i));
        max = Vector512.Max(max, Vector512.LoadUnsafe(ref start, (nuint)last));
        float best = float.NegativeInfinity;
        for (int lane = 0; lane < 16; lane++) best = MathF.Max(best, max.GetElement(lane));
        if (float.IsNaN(best)) return ArgMaxScalar(values);
        // The first lane equal to the maximum (+0 and -0 compare equal, as under the scalar rule).
        var target = Vector512.Create(best);
        for (i = 0; ; i += 16)
        {
            int at = Math.Min(i, last);
            ulong hits = Vector512.Equals(Vector512.LoadUnsafe(ref start, (nuint)at), target).ExtractMostSignificantBits();
            if (hits != 0) return at + BitOperations.TrailingZeroCount(hits);
            if (at == last) return ArgMaxScalar(values);
        }
    }

    private static int ArgMaxScalar(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}

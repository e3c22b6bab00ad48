namespace Dclm.Inference;

/// <summary>
/// Chooses tokens from logits under <see cref="SamplingOptions"/>. One sampler per sequence; it keeps
/// its random state and preallocated buffers, so sampling allocates nothing per token.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly int[] _candidates;
    private readonly float[] _scores;
    private readonly bool[] _penalised;
    private SplitMix64 _random;

    public Sampler(SamplingOptions options, int vocabularySize)
    {
        _options = options.Validate();
        _candidates = new int[vocabularySize];
        _scores = new float[vocabularySize];
        _penalised = new bool[vocabularySize];
        _random = new SplitMix64(options.Seed);
    }

    /// <summary>Picks the next token given the logits of the last position and the tokens so far.</summary>
    public int Sample(ReadOnlySpan<float> logits, ReadOnlySpan<int> history)
    {
        int vocabulary = _scores.Length;
        if (logits.Length < vocabulary) throw new ArgumentException($"logits have {logits.Length} values, the vocabulary has {vocabulary}");
        logits[..vocabulary].CopyTo(_scores);
        ApplyRepetitionPenalty(history);
        if (_options.Temperature <= 0) return ArgMax(_scores);

        // Candidates sorted by score, best first; top-k bounds how many we sort.
        int count = vocabulary;
        for (int i = 0; i < count; i++) _candidates[i] = i;
        int k = _options.TopK > 0 ? Math.Min(_options.TopK, count) : count;
        SortTop(k);
        count = k;

        // Probabilities at temperature 1 decide top-p and min-p, as llama.cpp does.
        float max = _scores[_candidates[0]];
        double total = 0;
        for (int i = 0; i < count; i++) total += Math.Exp(_scores[_candidates[i]] - max);
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

    private void ApplyRepetitionPenalty(ReadOnlySpan<int> history)
    {
        float penalty = _options.RepetitionPenalty;
        if (penalty == 1f || _options.RepetitionWindow == 0) return;
        var recent = history.Length > _options.RepetitionWindow ? history[^_options.RepetitionWindow..] : history;
        // Each distinct token is penalised once, however often it recurs.
        foreach (int token in recent)
        {
            if ((uint)token >= (uint)_scores.Length || _penalised[token]) continue;
            _penalised[token] = true;
            float s = _scores[token];
            _scores[token] = s > 0 ? s / penalty : s * penalty;
        }
        foreach (int token in recent) if ((uint)token < (uint)_scores.Length) _penalised[token] = false;
    }

    /// <summary>Puts the k best candidates, by descending score and then ascending id, at the front.</summary>
    private void SortTop(int k)
    {
        var scores = _scores;
        Comparison<int> better = (a, b) => scores[a] != scores[b] ? scores[b].CompareTo(scores[a]) : a.CompareTo(b);
        if (k < _candidates.Length / 8)
        {
            // Partial selection: keep a sorted window of the best k.
            int filled = 0;
            for (int i = 0; i < _candidates.Length; i++)
            {
                int id = i;
                if (filled == k && better(id, _candidates[k - 1]) >= 0) continue;
                int at = filled < k ? filled++ : k - 1;
                while (at > 0 && better(id, _candidates[at - 1]) < 0) { _candidates[at] = _candidates[at - 1]; at--; }
                _candidates[at] = id;
            }
        }
        else
        {
            Array.Sort(_candidates, Comparer<int>.Create(better));
        }
    }

    /// <summary>Index of the largest value; ties go to the lowest index.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}

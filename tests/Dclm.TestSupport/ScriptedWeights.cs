using Dclm.Models;

namespace Dclm.TestSupport;

/// <summary>
/// Hand-set weights of a one-layer open_lm model (RMSNorm, no qk-norm, RoPE) that says a fixed script and then
/// end-of-text, whatever it is asked. The script may repeat tokens: the next token is looked up from the last n tokens
/// (the shortest n for which that is a function of the script), an n-gram table written into attention and SwiGLU.
/// </summary>
/// <remarks>
/// Residual layout, S slots per block (slot 0: any token outside the script, or end-of-text in the next-token block):
/// <c>[current token (S) | token 1 back (S) | … | token n−1 back (S) | next token (S) | constant 1]</c>.
/// <list type="bullet">
/// <item>Embedding: one-hot current-token slot plus the constant.</item>
/// <item>Attention head h looks exactly h+1 positions back: its query and key are constants read from the constant
/// dimension, the key rotated by (h+1)·θ_i in every RoPE pair, so the score q·R(Δ)k ∝ Σ_i cos((Δ − h − 1)·θ_i) peaks
/// at Δ = h+1 with a margin of <see cref="AttentionMargin"/> nats over every other distance in the context. Its value
/// is the one-hot current-token block of that position, written to the "h+1 back" block.</item>
/// <item>SwiGLU: one hidden unit per n-gram rule, silu(a·(matched conditions − k + ½)) ≈ a/2 only when all k
/// conditions hold, writing 4^(k−1) into the next-token slot of its successor, so the longest matching context outweighs
/// all shorter ones together; one always-on unit writes ¼ for the script's first token (the reply's start after any
/// prompt).</item>
/// <item>Output: the next-token block read out with gain 10.</item>
/// </list>
/// </remarks>
internal sealed class ScriptedWeights
{
    private const float AttentionMargin = 40f;
    private const float GateScale = 20f;
    private const int HeadDim = 64;

    private readonly Dictionary<int, int> _slot = [];
    private readonly int[] _slotToken; // slot → vocabulary id; slot 0 → end of text (id 0)
    private readonly int _slots, _context;
    private readonly float[,] _inProjection, _outProjection, _gateUp, _down; // (3·dim, dim), (dim, dim), (2·hidden, dim), (dim, hidden)

    public ModelConfig Config { get; }

    public ScriptedWeights(IReadOnlyList<int> script, int contextLength)
    {
        if (script.Count == 0 || script.Contains(0)) throw new ArgumentException("the script needs at least one token and no end-of-text (id 0)", nameof(script));
        var tokens = script.Distinct().ToList();
        for (int k = 0; k < tokens.Count; k++) _slot[tokens[k]] = k + 1;
        _slotToken = [0, .. tokens];
        _slots = tokens.Count + 1;
        _context = Enumerable.Range(1, script.Count).First(n => Unambiguous(script, n));
        var rules = Rules(script, _context).DistinctBy(r => string.Join(",", r.Conditions) + ">" + r.Successor).ToList();

        int dim = Math.Max(_context - 1, (int)Math.Ceiling(((_context + 1) * _slots + 1) / (double)HeadDim)) * HeadDim;
        if (_slots > HeadDim) throw new ArgumentException($"the script has {_slots - 1} distinct tokens; at most {HeadDim - 1} fit a head", nameof(script));
        int hidden = 256 * (int)Math.Ceiling((rules.Count + 1) / 256.0);
        Config = ModelConfig.OpenLm(dim, layers: 1, heads: dim / HeadDim, vocabularySize: 50432, contextLength) with
        {
            Norm = NormKind.RmsNorm, QueryKeyNorm = QueryKeyNorm.None, HiddenDim = hidden,
        };
        int constant = dim - 1, next = _context * _slots;
        float eps = Config.NormEps;

        // Attention: the embedding [one-hot, 1] is RMS-normalised by s1 before the projections.
        float s1 = 1f / MathF.Sqrt(2f / dim + eps);
        float[] frequencies = Dclm.Tensors.Ops.RotaryEmbedding.InverseFrequencies(HeadDim, Config.RopeTheta);
        _inProjection = new float[3 * dim, dim];
        _outProjection = new float[dim, dim];
        for (int head = 0; head < _context - 1; head++)
        {
            int back = head + 1, row = head * HeadDim;
            float radius = MathF.Sqrt(AttentionMargin * MathF.Sqrt(HeadDim) / Margin(frequencies, back, contextLength));
            for (int i = 0; i < HeadDim / 2; i++)
            {
                _inProjection[row + i, constant] = radius / s1;
                float angle = back * frequencies[i];
                _inProjection[dim + row + i, constant] = radius * MathF.Cos(angle) / s1;
                _inProjection[dim + row + i + HeadDim / 2, constant] = radius * MathF.Sin(angle) / s1;
            }
            for (int s = 0; s < _slots; s++)
            {
                _inProjection[2 * dim + row + s, s] = 1f / s1;
                _outProjection[back * _slots + s, row + s] = 1f;
            }
        }

        // Feed-forward: the residual now holds n ones (current token and n−1 looked-back tokens) and the constant.
        float s2 = 1f / MathF.Sqrt((_context + 1f) / dim + eps);
        _gateUp = new float[2 * hidden, dim];
        _down = new float[dim, hidden];
        for (int unit = 0; unit <= rules.Count; unit++)
        {
            var (conditions, successor) = unit < rules.Count ? rules[unit] : ([], script[0]);
            foreach (var (back, token) in conditions) _gateUp[unit, back * _slots + _slot[token]] = GateScale / s2;
            _gateUp[unit, constant] = -GateScale * (conditions.Length - 0.5f) / s2;
            _gateUp[hidden + unit, constant] = 1f / s2;
            _down[next + (successor == 0 ? 0 : _slot[successor]), unit] = MathF.Pow(4, conditions.Length - 1);
        }
    }

    /// <summary>The value of element <paramref name="index"/> (row-major) of tensor <paramref name="name"/>.</summary>
    public float Weight(string name, long[] shape, long index)
    {
        int dim = Config.Dim;
        if (name.EndsWith("inv_freq")) return (float)Math.Pow(Config.RopeTheta, -2.0 * index / Config.HeadDim);
        if (shape.Length == 1) return 1f; // norm gains
        int row = (int)(index / shape[1]), column = (int)(index % shape[1]);
        if (name.Contains("tok_embeddings")) return column == dim - 1 || column == _slot.GetValueOrDefault(row, 0) ? 1f : 0f;
        if (name.EndsWith("output.weight"))
        {
            int next = _context * _slots;
            return column >= next && column < next + _slots && _slotToken[column - next] == row ? 10f : 0f;
        }
        if (name.Contains("in_proj")) return _inProjection[row, column];
        if (name.Contains("out_proj")) return _outProjection[row, column];
        if (name.Contains("w12")) return _gateUp[row, column];
        if (name.Contains("w3")) return _down[row, column];
        throw new InvalidOperationException($"no scripted weights for {name}");
    }

    /// <summary>
    /// The rule of each step p: the last min(p+1, n) script tokens (as (positions back, token) conditions) lead to token p+1,
    /// or to end-of-text after the last.
    /// </summary>
    private static IEnumerable<((int Back, int Token)[] Conditions, int Successor)> Rules(IReadOnlyList<int> script, int n)
    {
        for (int p = 0; p < script.Count; p++)
        {
            var conditions = Enumerable.Range(0, Math.Min(p + 1, n)).Select(back => (back, script[p - back])).ToArray();
            yield return (conditions, p + 1 < script.Count ? script[p + 1] : 0);
        }
    }

    // Whether the last n tokens decide the next one wherever the script has n tokens to look at. Nearer its start, where the
    // rules are shorter, there is one rule of each length, so the longest that matches is the step's own.
    private static bool Unambiguous(IReadOnlyList<int> script, int n) =>
        Rules(script, n).Where(r => r.Conditions.Length == n).GroupBy(r => string.Join(",", r.Conditions)).All(g => g.Select(r => r.Successor).Distinct().Count() == 1);

    // min over distances Δ ≠ back (0 ≤ Δ < context) of Σ_i (1 − cos((Δ − back)·θ_i)): how far the best wrong score falls short.
    private static float Margin(float[] frequencies, int back, int contextLength)
    {
        double margin = double.MaxValue;
        for (int distance = 0; distance < contextLength; distance++)
        {
            if (distance == back) continue;
            double sum = 0;
            foreach (float f in frequencies) sum += 1 - Math.Cos((distance - back) * (double)f);
            margin = Math.Min(margin, sum);
        }
        return (float)margin;
    }
}

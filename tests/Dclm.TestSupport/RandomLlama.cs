using Dclm.Inference;

namespace Dclm.TestSupport;

/// <summary>Sizes of a small Llama model; the vocabulary is the real llama-spm one (32000 tokens).</summary>
public sealed record LlamaShape(
    int Dim = 256, int Layers = 3, int Heads = 8, int KeyValueHeads = 4, int HiddenDim = 704,
    int VocabularySize = 32000, int ContextLength = 2048, float NormEpsilon = 1e-5f, float RopeTheta = 10000, int HeadWidth = 0)
{
    /// <summary>The head width: <see cref="HeadWidth"/> when set (Qwen3 sets its own), else dim/heads.</summary>
    public int HeadDim => HeadWidth > 0 ? HeadWidth : Dim / Heads;
    public int QueryDim => Heads * HeadDim;
    public int KeyValueDim => KeyValueHeads * HeadDim;
}

/// <summary>
/// One weight tensor under its Hugging Face and llama.cpp names. Values are row-major in the Hugging Face
/// layout, i.e. Q and K rows rotate as half-split pairs; <see cref="RopeHeads"/> is set for those two.
/// </summary>
public sealed record NamedTensor(string HuggingFaceName, string GgufName, long[] Shape, float[] Values, int RopeHeads = 0)
{
    public bool IsMatrix => Shape.Length == 2;
}

/// <summary>
/// A Llama model with random weights drawn from a fixed seed. Scales keep activations near unit size:
/// embeddings N(0, 1), projections N(0, 1/fan_in) (output projections half that), norm gains 1 + N(0, 0.1²),
/// so attention scores and logits are O(1).
/// </summary>
/// <remarks>
/// With purely random weights the logits of 32000 tokens are close to Gaussian, so the top two are often
/// within 0.1% of each other: even llama.cpp's own Q8_0 run picks a different top token than its F32 run at
/// about 3% of positions. A trained model is far more decisive. <c>outputShare</c> adds s·embedding/√d to
/// the output head, the way trained (and tied) heads correlate with the input embedding, so that the token
/// the residual stream carries stands out as it does in a real model.
/// </remarks>
public sealed class RandomLlama
{
    private RandomLlama(LlamaShape shape, IReadOnlyList<NamedTensor> tensors)
    {
        Shape = shape;
        Tensors = tensors;
    }

    public LlamaShape Shape { get; }

    /// <summary>Every tensor, in llama.cpp's file order.</summary>
    public IReadOnlyList<NamedTensor> Tensors { get; }

    /// <param name="shape">Sizes.</param>
    /// <param name="seed">Seed of every draw.</param>
    /// <param name="outputShare">s in lm_head = N(0, 1/d) + s·embedding/√d; 0 for a purely random head.</param>
    /// <param name="attentionBias">Qwen2's biases on Q, K and V, N(0, 0.5²) (drawn after all other weights, so the rest is the same model).</param>
    /// <param name="headNorms">Qwen3's per-head RMS gains on Q and K, 1 + N(0, 0.1²) (drawn last, like the biases).</param>
    public static RandomLlama Create(LlamaShape shape, ulong seed, double outputShare = 0, bool attentionBias = false, bool headNorms = false)
    {
        var random = new Normal(seed);
        int d = shape.Dim, qd = shape.QueryDim, kv = shape.KeyValueDim, h = shape.HiddenDim, v = shape.VocabularySize;
        var tensors = new List<NamedTensor>();
        NamedTensor Matrix(string hf, string gguf, int rows, int columns, double scale, int ropeHeads = 0) =>
            new(hf, gguf, [rows, columns], random.Fill(rows * columns, 0, scale / Math.Sqrt(columns)), ropeHeads);
        NamedTensor Gain(string hf, string gguf) => new(hf, gguf, [d], random.Fill(d, 1, 0.1));

        float[] embedding = random.Fill(v * d, 0, 1);
        tensors.Add(new("model.embed_tokens.weight", "token_embd.weight", [v, d], embedding));
        for (int i = 0; i < shape.Layers; i++)
        {
            string hf = $"model.layers.{i}.", gguf = $"blk.{i}.";
            tensors.Add(Gain(hf + "input_layernorm.weight", gguf + "attn_norm.weight"));
            tensors.Add(Matrix(hf + "self_attn.q_proj.weight", gguf + "attn_q.weight", qd, d, 1, shape.Heads));
            tensors.Add(Matrix(hf + "self_attn.k_proj.weight", gguf + "attn_k.weight", kv, d, 1, shape.KeyValueHeads));
            tensors.Add(Matrix(hf + "self_attn.v_proj.weight", gguf + "attn_v.weight", kv, d, 1));
            tensors.Add(Matrix(hf + "self_attn.o_proj.weight", gguf + "attn_output.weight", d, qd, 0.5));
            tensors.Add(Gain(hf + "post_attention_layernorm.weight", gguf + "ffn_norm.weight"));
            tensors.Add(Matrix(hf + "mlp.gate_proj.weight", gguf + "ffn_gate.weight", h, d, 1));
            tensors.Add(Matrix(hf + "mlp.up_proj.weight", gguf + "ffn_up.weight", h, d, 1));
            tensors.Add(Matrix(hf + "mlp.down_proj.weight", gguf + "ffn_down.weight", d, h, 0.5));
        }
        tensors.Add(Gain("model.norm.weight", "output_norm.weight"));
        var head = Matrix("lm_head.weight", "output.weight", v, d, 1);
        for (int i = 0; i < head.Values.Length; i++) head.Values[i] += (float)(outputShare * embedding[i] / Math.Sqrt(d));
        tensors.Add(head);
        if (attentionBias)
            for (int i = 0; i < shape.Layers; i++)
            {
                string hf = $"model.layers.{i}.self_attn.", gguf = $"blk.{i}.";
                tensors.Add(new(hf + "q_proj.bias", gguf + "attn_q.bias", [qd], random.Fill(qd, 0, 0.5)));
                tensors.Add(new(hf + "k_proj.bias", gguf + "attn_k.bias", [kv], random.Fill(kv, 0, 0.5)));
                tensors.Add(new(hf + "v_proj.bias", gguf + "attn_v.bias", [kv], random.Fill(kv, 0, 0.5)));
            }
        if (headNorms)
            for (int i = 0; i < shape.Layers; i++)
            {
                string hf = $"model.layers.{i}.self_attn.", gguf = $"blk.{i}.";
                tensors.Add(new(hf + "q_norm.weight", gguf + "attn_q_norm.weight", [shape.HeadDim], random.Fill(shape.HeadDim, 1, 0.1)));
                tensors.Add(new(hf + "k_norm.weight", gguf + "attn_k_norm.weight", [shape.HeadDim], random.Fill(shape.HeadDim, 1, 0.1)));
            }
        return new RandomLlama(shape, tensors);
    }

    /// <summary>Gaussian draws by Box–Muller over SplitMix64, the same on every platform.</summary>
    private sealed class Normal(ulong seed)
    {
        private SplitMix64 bits = new(seed);

        public float[] Fill(int count, double mean, double deviation)
        {
            var values = new float[count];
            for (int i = 0; i < count; i += 2)
            {
                double u = 1.0 - bits.NextDouble(), angle = 2 * Math.PI * bits.NextDouble();
                double radius = Math.Sqrt(-2 * Math.Log(u));
                values[i] = (float)(mean + deviation * radius * Math.Cos(angle));
                if (i + 1 < count) values[i + 1] = (float)(mean + deviation * radius * Math.Sin(angle));
            }
            return values;
        }
    }
}

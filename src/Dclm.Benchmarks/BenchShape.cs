namespace Dclm.Benchmarks;

/// <summary>The size of a synthetic model the benchmark writes for itself.</summary>
/// <remarks><paramref name="HeadWidth"/> set (with per-head q/k norms) makes a Qwen3 shape, written as llama.cpp's qwen3.</remarks>
public sealed record BenchShape(string Name, bool OpenLm, int Dim, int Layers, int Heads, int KeyValueHeads, int HiddenDim, int VocabularySize, int HeadWidth = 0)
{
    /// <summary>TinyLlama-1.1B: the acceptance shape for the llama.cpp comparison.</summary>
    public static BenchShape TinyLlama { get; } = new("tinyllama", false, 2048, 22, 32, 4, 5632, 32000);
    /// <summary>Llama-2-7B.</summary>
    public static BenchShape Llama7B { get; } = new("llama-7b", false, 4096, 32, 32, 32, 11008, 32000);
    /// <summary>DCLM-7B: open_lm, GPT-NeoX vocabulary.</summary>
    public static BenchShape Dclm7B { get; } = new("dclm-7b", true, 4096, 32, 32, 32, 11008, 50432);

    /// <summary>Qwen3-0.6B: 16 heads of 128 (a 2048-wide query over a 1024 residual), per-head q/k norms, tied head untied here.</summary>
    public static BenchShape Qwen3Small { get; } = new("qwen3-0.6b", false, 1024, 28, 16, 8, 3072, 151936, HeadWidth: 128);

    /// <summary>All named shapes.</summary>
    public static IReadOnlyList<BenchShape> All { get; } = [TinyLlama, Llama7B, Dclm7B, Qwen3Small];

    /// <summary>Whether this is a Qwen3 shape (its own head width, per-head q/k norms, NeoX RoPE).</summary>
    public bool Qwen3 => HeadWidth > 0;

    /// <summary>Width of one head.</summary>
    public int HeadDim => HeadWidth > 0 ? HeadWidth : Dim / Heads;

    /// <summary>Width of all query heads.</summary>
    public int QueryDim => Heads * HeadDim;

    /// <summary>Finds a shape by name, e.g. "tinyllama".</summary>
    public static BenchShape Parse(string name) =>
        All.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown benchmark shape '{name}'; choose one of {string.Join(", ", All.Select(s => s.Name))}");

    /// <summary>The model config of this shape: open_lm (LayerNorm, qk-norm) or Llama (RMSNorm, adjacent-pair RoPE as GGUF stores it), context 2048.</summary>
    public Models.ModelConfig ToConfig() => new()
    {
        Architecture = OpenLm ? Models.Architecture.OpenLm : Qwen3 ? Models.Architecture.Qwen3 : Models.Architecture.Llama,
        Dim = Dim, Layers = Layers, Heads = Heads, KeyValueHeads = KeyValueHeads, HiddenDim = HiddenDim,
        VocabularySize = VocabularySize, ContextLength = 2048, NormEps = 1e-5f,
        Norm = OpenLm ? Models.NormKind.LayerNorm : Models.NormKind.RmsNorm, 
        QueryKeyNorm = OpenLm ? Models.QueryKeyNorm.FullWidth : Qwen3 ? Models.QueryKeyNorm.PerHead : Models.QueryKeyNorm.None, HeadDimension = HeadWidth,
        RopeStyle = OpenLm || Qwen3 ? Tensors.Ops.RopeStyle.HalfSplit : Tensors.Ops.RopeStyle.AdjacentPairs,
    };

    /// <summary>Width of all key (or value) heads.</summary>
    public int KeyValueDim => HeadDim * KeyValueHeads;
}

namespace Dclm.Training;

/// <summary>
/// One named parameter tensor with its own values and, when it trains, its gradient. Every tensor is its
/// own array (a chunk), so a model's parameter count is bounded by memory, not by one array's length.
/// </summary>
public sealed class ParameterTensor
{
    /// <summary>A trainable tensor of zeros with a zero gradient.</summary>
    public ParameterTensor(string name, long[] shape, bool isNorm) : this(name, shape, isNorm, null, trainable: true) { }

    /// <summary>A tensor over <paramref name="values"/> (or new zeros); with a gradient only when <paramref name="trainable"/>.</summary>
    public ParameterTensor(string name, long[] shape, bool isNorm, float[]? values, bool trainable)
    {
        long length = shape.Aggregate(1L, (a, b) => a * b);
        if (length > Array.MaxLength) throw new ArgumentException($"tensor {name} has {length} values, more than one array holds ({Array.MaxLength})");
        if (values is not null && values.Length != length) throw new ArgumentException($"tensor {name} needs {length} values, got {values.Length}");
        Name = name;
        Shape = shape;
        IsNorm = isNorm;
        Values = values ?? new float[length];
        Gradient = trainable ? new float[length] : null;
    }

    /// <summary>Checkpoint key, e.g. model.layers.0.attention.in_proj.weight.</summary>
    public string Name { get; }
    /// <summary>Row-major shape.</summary>
    public long[] Shape { get; }
    /// <summary>A norm gain: initialised to one and never weight-decayed.</summary>
    public bool IsNorm { get; }
    /// <summary>The values. (shape)</summary>
    public float[] Values { get; }
    /// <summary>Accumulated gradient, same shape; null for a frozen tensor.</summary>
    public float[]? Gradient { get; }
    /// <summary>Whether the tensor has a gradient and is updated by the optimizer.</summary>
    public bool Trainable => Gradient is not null;
    /// <summary>Number of elements.</summary>
    public int Length => Values.Length;
    /// <summary>Rows of a matrix (the only dimension of a vector).</summary>
    public int Rows => (int)Shape[0];
    /// <summary>Columns of a matrix (1 for a vector).</summary>
    public int Columns => Shape.Length > 1 ? (int)Shape[1] : 1;

    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}

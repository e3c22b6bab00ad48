using Dclm.Formats;
using Dclm.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Checkpoints;

/// <summary>
/// Looks tensors up by name in one checkpoint and turns them into the model's types: matrices stay
/// views into the mapped file (no copy), small norm vectors become float arrays.
/// </summary>
internal sealed class TensorBinder(string path, IReadOnlyDictionary<string, TensorEntry> tensors)
{
    private static readonly GgmlType[] MatrixTypes = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K];

    public string Path => path;

    public bool Has(string name) => tensors.ContainsKey(name);

    public TensorEntry Entry(string name) =>
        tensors.TryGetValue(name, out var entry) ? entry : throw new ModelFileException(path, $"tensor '{name}' is missing");

    /// <summary>A 2-D tensor as a matrix view of shape (rows, columns), checked against what the config expects.</summary>
    public unsafe WeightMatrix Matrix(string name, int rows, int columns)
    {
        var entry = Entry(name);
        if (entry.Rank != 2 || entry.Shape[0] != rows || entry.Shape[1] != columns)
            throw new ModelFileException(path, $"tensor '{name}' has shape [{string.Join(", ", entry.Shape)}], the config needs [{rows}, {columns}]");
        if (Array.IndexOf(MatrixTypes, entry.Type) < 0)
            throw new ModelFileException(path, $"tensor '{name}' is {entry.DtypeName}; weights must be one of {string.Join(", ", MatrixTypes.Select(GgmlTypeInfo.Name))}");
        if (columns % GgmlTypeInfo.BlockSize(entry.Type) != 0)
            throw new ModelFileException(path, $"tensor '{name}' has {columns} columns, not a whole number of {entry.DtypeName} blocks");
        return new WeightMatrix(entry.Data, entry.Type, rows, columns);
    }

    /// <summary>A 1-D tensor of <paramref name="length"/> values, converted to float.</summary>
    public unsafe float[] Vector(string name, int length)
    {
        var entry = Entry(name);
        if (entry.ElementCount != length || entry.Rank > 2 || (entry.Rank == 2 && entry.Shape[0] != 1))
            throw new ModelFileException(path, $"tensor '{name}' has shape [{string.Join(", ", entry.Shape)}], the config needs [{length}]");
        if (entry.Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
            throw new ModelFileException(path, $"tensor '{name}' is {entry.DtypeName}; vectors must be F32, F16 or BF16");
        var values = new float[length];
        Dequantize.Row(new WeightMatrix(entry.Data, entry.Type, 1, length), 0, values);
        foreach (float v in values)
            if (!float.IsFinite(v)) throw new ModelFileException(path, $"tensor '{name}' holds a non-finite value");
        return values;
    }

    /// <summary>Like <see cref="Vector"/>, or null when the tensor is absent.</summary>
    public float[]? OptionalVector(string name, int length) => Has(name) ? Vector(name, length) : null;
}

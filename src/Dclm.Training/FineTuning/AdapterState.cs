using System.Runtime.InteropServices;
using Dclm.Formats.Safetensors;
using Dclm.Tensors;

namespace Dclm.Training.FineTuning;

/// <summary>
/// The exact values of a run's trainable tensors under their own names, for checkpoints: a resumed run reads back
/// precisely the tensors it trains (the PEFT files beside them may fuse open_lm's slices into one module).
/// </summary>
public static class AdapterState
{
    /// <summary>The file's name inside a checkpoint.</summary>
    public const string FileName = "trainable.safetensors";

    /// <summary>Writes every tensor of <paramref name="tensors"/> into <paramref name="directory"/>.</summary>
    public static void Write(string directory, IReadOnlyList<ParameterTensor> tensors)
    {
        var writer = new SafetensorsWriter();
        foreach (var tensor in tensors)
        {
            var t = tensor;
            writer.AddTensor(t.Name, GgmlType.F32, t.Shape, stream => stream.Write(MemoryMarshal.AsBytes(t.Values.AsSpan())));
        }
        writer.Write(Path.Combine(directory, FileName));
    }

    /// <summary>Reads every tensor of <paramref name="tensors"/> back from <paramref name="directory"/>; a missing or mis-shaped one is an error naming it.</summary>
    public static void Read(string directory, IReadOnlyList<ParameterTensor> tensors)
    {
        string path = Path.Combine(directory, FileName);
        using var file = SafetensorsFile.Open(path);
        foreach (var t in tensors)
        {
            if (!file.Tensors.TryGetValue(t.Name, out var entry)) throw new InvalidDataException($"{path}: tensor {t.Name} is missing; the checkpoint was made by another run");
            if (entry.Type != GgmlType.F32 || entry.ElementCount != t.Length) throw new InvalidDataException($"{path}: tensor {t.Name} is not F32 with {t.Length} values");
            entry.Bytes.CopyTo(MemoryMarshal.AsBytes(t.Values.AsSpan()));
        }
    }
}

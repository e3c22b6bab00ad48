using System.Text;
using System.Text.Json.Nodes;
using Dclm.Formats;
using Dclm.Formats.Safetensors;

namespace Dclm.Fuzz.Targets;

/// <summary>
/// safetensors files: the JSON header is mutated as JSON (dtypes, shapes, data_offsets, metadata; values of
/// every kind and edge numbers), then written back with an exact, shortened, padded or lying header length and
/// a data section of the right size or cut or extended; a quarter of the cases are byte-level. Each case is
/// opened alone and, one case in four, as a checkpoint folder.
/// </summary>
internal sealed class SafetensorsTarget : FuzzTarget
{
    private readonly ScratchFolder folder = new("safetensors");
    private readonly (string Header, int DataBytes, byte[] Bytes)[] seeds;

    private static readonly string[] Words =
        ["F32", "F16", "BF16", "I8", "U8", "I64", "F64", "BOOL", "F8_E4M3", "Q4_0", "dtype", "shape", "data_offsets", "__metadata__", "format", "pt"];

    public SafetensorsTarget()
    {
        var writer = new SafetensorsWriter();
        writer.AddMetadata("format", "pt");
        writer.AddTensor("model.embed.weight", "BF16", [4, 8], new byte[64]);
        writer.AddTensor("model.norm.weight", "F32", [8], new byte[32]);
        writer.AddTensor("model.scale", "F64", [], new byte[8]);
        writer.AddTensor("model.empty", "F32", [0, 3], []);
        writer.AddTensor("model.flags", "BOOL", [3], new byte[3]);
        string path = folder.File("seed.safetensors");
        writer.Write(path);
        byte[] written = File.ReadAllBytes(path);
        int headerLength = (int)BitConverter.ToUInt64(written, 0);
        string header = Encoding.UTF8.GetString(written, 8, headerLength).TrimEnd(' ');
        seeds = [(header, written.Length - 8 - headerLength, written)];
    }

    public override string Name => "safetensors";

    public override string ExpectedErrors => "ModelFileException naming the file";

    public override byte[] NextCase(Random random)
    {
        var (header, dataBytes, bytes) = seeds[random.Next(seeds.Length)];
        if (random.Next(4) == 0) return ByteMutator.Mutate(bytes, random);
        byte[] json = random.Next(6) == 0 ? Encoding.UTF8.GetBytes(header) : JsonMutator.Mutate(header, random, Words);
        int padding = random.Next(3) == 0 ? random.Next(0, 9) : (8 - json.Length % 8) % 8;
        ulong length = (ulong)(json.Length + padding);
        switch (random.Next(6))
        {
            case 0: length -= (ulong)Math.Min(random.Next(1, 4), (int)length); break; // shortened into the padding
            case 1: length = ByteMutator.InterestingValues[random.Next(ByteMutator.InterestingValues.Length)]; break;
            case 2: length += (ulong)random.Next(1, 16); break;
        }
        int data = random.Next(4) switch { 0 => Math.Max(0, dataBytes - random.Next(1, 9)), 1 => dataBytes + random.Next(1, 100), _ => dataBytes };
        var output = new List<byte>(BitConverter.GetBytes(length));
        output.AddRange(json);
        output.AddRange(Enumerable.Repeat((byte)' ', padding));
        output.AddRange(ByteMutator.RandomBytes(random, data));
        return [.. output];
    }

    public override bool Run(byte[] input, CancellationToken cancellation)
    {
        bool asCheckpoint = input.Length % 4 == 0;
        string directory = folder.File("checkpoint");
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "model.safetensors");
        File.WriteAllBytes(path, input);
        try
        {
            if (asCheckpoint)
            {
                using var checkpoint = SafetensorsCheckpoint.Open(directory);
                foreach (var tensor in checkpoint.Tensors.Values) Touch(tensor);
            }
            else
            {
                using var file = SafetensorsFile.Open(path);
                foreach (var (key, value) in file.Metadata) _ = key.Length + value.Length;
                foreach (var tensor in file.Tensors.Values) Touch(tensor);
            }
            return true;
        }
        catch (ModelFileException error)
        {
            CheckMessage(error, path);
            return false;
        }
    }

    private static void Touch(TensorEntry tensor)
    {
        _ = tensor.ToString() + tensor.ElementCount;
        if (tensor.ByteLength > 0) _ = tensor.Bytes[0] ^ tensor.Bytes[^1];
    }

    public override void Dispose() => folder.Dispose();
}

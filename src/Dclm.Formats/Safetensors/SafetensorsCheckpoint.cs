namespace Dclm.Formats.Safetensors;

/// <summary>
/// The safetensors weights of one checkpoint, possibly sharded, merged into one tensor map. A directory
/// holds <c>model.safetensors.index.json</c> (its weight_map names each tensor's shard), or
/// <c>model.safetensors</c>, or else any <c>*.safetensors</c> files; a path to a single file opens just it.
/// </summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    /// <summary>The index file name Hugging Face uses for sharded checkpoints.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>The file name of an unsharded checkpoint.</summary>
    public const string SingleFileName = "model.safetensors";

    private readonly List<SafetensorsFile> files;

    private SafetensorsCheckpoint(string path, string? indexPath, List<SafetensorsFile> files, Dictionary<string, TensorEntry> tensors)
    {
        Path = path;
        IndexPath = indexPath;
        this.files = files;
        Tensors = tensors;
    }

    /// <summary>The directory or file the checkpoint was opened from.</summary>
    public string Path { get; }

    /// <summary>The index file used, or null when there was none.</summary>
    public string? IndexPath { get; }

    /// <summary>The open shards, in the order their tensors appear in <see cref="Tensors"/>.</summary>
    public IReadOnlyList<SafetensorsFile> Files => files;

    /// <summary>Every tensor of every shard, by name.</summary>
    public IReadOnlyDictionary<string, TensorEntry> Tensors { get; }

    /// <summary>The <c>__metadata__</c> of the first shard (empty when there is none).</summary>
    public IReadOnlyDictionary<string, string> Metadata =>
        files.Count > 0 ? files[0].Metadata : new Dictionary<string, string>();

    /// <summary>
    /// Opens a checkpoint directory or a single .safetensors file, each shard held as <paramref name="residence"/>
    /// says (a copy calls <paramref name="onRead"/> with each piece's byte count); throws
    /// <see cref="ModelFileException"/> on any problem.
    /// </summary>
    public static SafetensorsCheckpoint Open(string path, FileResidence residence = FileResidence.Mapped, Action<long>? onRead = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (File.Exists(path)) return FromFiles(path, null, [path], residence, onRead);
        if (!Directory.Exists(path)) throw new ModelFileException(path, "no such file or directory");

        string indexPath = System.IO.Path.Combine(path, IndexFileName);
        if (File.Exists(indexPath)) return FromIndex(path, indexPath, residence, onRead);
        string singlePath = System.IO.Path.Combine(path, SingleFileName);
        if (File.Exists(singlePath)) return FromFiles(path, null, [singlePath], residence, onRead);
        string[] shards = Directory.GetFiles(path, "*.safetensors");
        Array.Sort(shards, StringComparer.Ordinal);
        if (shards.Length == 0)
            throw new ModelFileException(path, $"holds no {SingleFileName}, {IndexFileName} or *.safetensors file");
        return FromFiles(path, null, shards, residence, onRead);
    }

    private static SafetensorsCheckpoint FromFiles(string path, string? indexPath, IReadOnlyList<string> shardPaths, FileResidence residence, Action<long>? onRead)
    {
        var opened = new List<SafetensorsFile>();
        try
        {
            var tensors = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
            foreach (string shardPath in shardPaths)
            {
                SafetensorsFile shard = SafetensorsFile.Open(shardPath, residence, onRead);
                opened.Add(shard);
                foreach (var (name, entry) in shard.Tensors)
                    if (!tensors.TryAdd(name, entry))
                        throw new ModelFileException(shardPath, $"tensor '{Printable.Text(name)}' also appears in another shard");
            }
            return new SafetensorsCheckpoint(path, indexPath, opened, tensors);
        }
        catch
        {
            foreach (SafetensorsFile shard in opened) shard.Dispose();
            throw;
        }
    }

    private static SafetensorsCheckpoint FromIndex(string path, string indexPath, FileResidence residence, Action<long>? onRead)
    {
        List<KeyValuePair<string, string>> weightMap = SafetensorsIndex.ReadWeightMap(indexPath);
        var shardOrder = new List<string>();
        var tensorsByShard = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (tensor, shard) in weightMap)
        {
            if (!tensorsByShard.TryGetValue(shard, out List<string>? names))
            {
                string shardPath = System.IO.Path.Combine(path, shard);
                if (!File.Exists(shardPath))
                    throw new ModelFileException(indexPath, $"shard '{Printable.Text(shard)}' (holding tensor '{Printable.Text(tensor)}') does not exist");
                tensorsByShard[shard] = names = [];
                shardOrder.Add(shard);
            }
            names.Add(tensor);
        }

        var opened = new List<SafetensorsFile>();
        try
        {
            var tensors = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
            foreach (string shard in shardOrder)
            {
                SafetensorsFile file = SafetensorsFile.Open(System.IO.Path.Combine(path, shard), residence, onRead);
                opened.Add(file);
                // File order within a shard, restricted to what the index maps there.
                var mapped = new HashSet<string>(tensorsByShard[shard], StringComparer.Ordinal);
                foreach (string name in tensorsByShard[shard])
                    if (!file.Tensors.ContainsKey(name))
                        throw new ModelFileException(indexPath, $"tensor '{Printable.Text(name)}' is mapped to shard '{Printable.Text(shard)}', which does not contain it");
                foreach (var (name, entry) in file.Tensors)
                    if (mapped.Contains(name)) tensors.Add(name, entry);
            }
            return new SafetensorsCheckpoint(path, indexPath, opened, tensors);
        }
        catch
        {
            foreach (SafetensorsFile file in opened) file.Dispose();
            throw;
        }
    }

    /// <summary>The tensor called <paramref name="name"/>, or a <see cref="ModelFileException"/> naming it.</summary>
    public TensorEntry GetTensor(string name) =>
        Tensors.TryGetValue(name, out TensorEntry entry) ? entry : throw new ModelFileException(Path, $"tensor '{name}' is missing");

    /// <summary>Releases every shard's mapping; tensor pointers become invalid.</summary>
    public void Dispose()
    {
        foreach (SafetensorsFile file in files) file.Dispose();
    }
}

using System.Collections.Concurrent;

namespace Dclm.Data.FastText;

/// <summary>
/// Model files loaded once per process and shared by every stage and thread that names them (a pipeline builds
/// its stages more than once; a 1 GB quality classifier should be mapped once).
/// </summary>
public static class FastTextModels
{
    private static readonly ConcurrentDictionary<string, Lazy<FastTextModel>> Loaded = new(StringComparer.Ordinal);

    /// <summary>The model at <paramref name="path"/>, loading it on first use.</summary>
    public static FastTextModel Shared(string path) =>
        Loaded.GetOrAdd(Path.GetFullPath(path), full => new Lazy<FastTextModel>(() => FastTextModel.Load(full))).Value;
}

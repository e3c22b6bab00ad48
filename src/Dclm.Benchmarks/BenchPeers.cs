using System.Reflection;
using System.Runtime.Loader;

namespace Dclm.Benchmarks;

/// <summary>
/// Finds and loads the peers <c>dclm bench --compare</c> measures against. Each peer is a plugin assembly that the
/// solution builds beside the program (llama.cpp: <c>bench/Dclm.Bench.LlamaCpp</c>, with LLamaSharp and its native
/// libraries), so the shipped program carries none of it; the plugin is loaded into a load context of its own
/// only when a comparison is asked for.
/// </summary>
public static class BenchPeers
{
    /// <summary>The environment variable naming a folder that holds peer plugins, ahead of the build tree.</summary>
    public const string DirectoryVariable = "DCLM_BENCH_PEERS";

    private static readonly Dictionary<string, string> Plugins = new(StringComparer.Ordinal) { ["llama.cpp"] = "Dclm.Bench.LlamaCpp" };

    /// <summary>The names <c>--compare</c> accepts.</summary>
    public static IReadOnlyCollection<string> Names => Plugins.Keys;

    /// <summary>Loads the peer called <paramref name="name"/>, naming the plugin and how to build it when it is missing.</summary>
    public static IBenchPeer Load(string name)
    {
        if (!Plugins.TryGetValue(name, out string? assembly))
            throw new ArgumentException($"--compare '{name}' is not supported ({string.Join(", ", Names)})");
        string path = Locate(assembly) ?? throw new FileNotFoundException(
            $"--compare {name} needs the {assembly} plugin, which was not found; build it with `dotnet build bench/{assembly} -c Release` " +
            $"(scripts/setup.sh does) or set {DirectoryVariable} to the folder that holds {assembly}.dll");
        var loaded = new PluginLoadContext(path).LoadFromAssemblyPath(path);
        var type = loaded.GetExportedTypes().FirstOrDefault(t => typeof(IBenchPeer).IsAssignableFrom(t) && !t.IsAbstract)
            ?? throw new InvalidDataException($"{path} has no public {nameof(IBenchPeer)} type");
        return (IBenchPeer)Activator.CreateInstance(type)!;
    }

    /// <summary>
    /// <c>$DCLM_BENCH_PEERS/NAME.dll</c> when the variable is set, else the plugin's build output
    /// (<c>bench/NAME/bin/CONFIGURATION/TFM/NAME.dll</c>, in this program's configuration) found walking up from the
    /// program's folder, then from the working directory; null when there is none.
    /// </summary>
    public static string? Locate(string assembly)
    {
        string file = assembly + ".dll";
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } configured)
            return File.Exists(Path.Combine(configured, file)) ? Path.GetFullPath(Path.Combine(configured, file)) : null;
        string configuration = typeof(BenchPeers).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        string framework = $"net{Environment.Version.Major}.{Environment.Version.Minor}";
        string relative = Path.Combine("bench", assembly, "bin", configuration, framework, file);
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                string candidate = Path.Combine(directory.FullName, relative);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>
    /// Resolves a plugin's own dependencies (managed and native) from its deps.json, and leaves every assembly the
    /// program already has to the default context, so the plugin and the program share one <see cref="IBenchTarget"/>.
    /// </summary>
    private sealed class PluginLoadContext(string path) : AssemblyLoadContext($"peer:{Path.GetFileNameWithoutExtension(path)}")
    {
        private static readonly HashSet<string> HostAssemblies = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(Path.GetFileNameWithoutExtension).OfType<string>()
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

        private readonly AssemblyDependencyResolver _resolver = new(path);

        protected override Assembly? Load(AssemblyName name) =>
            name.Name is { } simple && HostAssemblies.Contains(simple) ? null
            : _resolver.ResolveAssemblyToPath(name) is { } file ? LoadFromAssemblyPath(file) : null;

        protected override nint LoadUnmanagedDll(string name) =>
            _resolver.ResolveUnmanagedDllToPath(name) is { } file ? LoadUnmanagedDllFromPath(file) : 0;
    }
}

using System.Globalization;

namespace Dclm.Checkpoints;

/// <summary>
/// Memory this process could still take without pushing anything out but caches: Linux's MemAvailable,
/// capped by the memory cgroup limits (v1 or v2) of this process and of every cgroup above it.
/// </summary>
/// <param name="AvailableBytes">Bytes that can be allocated now (reclaimable page cache counts as free).</param>
/// <param name="TotalBytes">All memory this process may use: the machine's, or a smaller cgroup limit.</param>
/// <param name="Source">Where the figure came from, for reports ("MemAvailable", "cgroup /user.slice", ...).</param>
public readonly record struct AvailableMemory(long AvailableBytes, long TotalBytes, string Source)
{
    /// <summary>Reads the figures now; elsewhere than Linux, from the runtime's view of memory load.</summary>
    public static AvailableMemory Read()
    {
        var gc = GC.GetGCMemoryInfo();
        var fallback = new AvailableMemory(Math.Max(0, gc.TotalAvailableMemoryBytes - gc.MemoryLoadBytes), gc.TotalAvailableMemoryBytes, "runtime memory load");
        if (!OperatingSystem.IsLinux()) return fallback;
        try
        {
            var meminfo = ReadKeyValues("/proc/meminfo");
            if (!meminfo.TryGetValue("MemAvailable", out long available) || !meminfo.TryGetValue("MemTotal", out long total)) return fallback;
            var memory = new AvailableMemory(available * 1024, total * 1024, "MemAvailable");
            foreach (var (limit, used, name) in CgroupLimits())
            {
                long free = Math.Max(0, limit - used);
                if (free < memory.AvailableBytes) memory = new AvailableMemory(free, Math.Min(limit, memory.TotalBytes), $"cgroup {name}");
                else if (limit < memory.TotalBytes) memory = memory with { TotalBytes = limit };
            }
            return memory;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return fallback;
        }
    }

    /// <summary>
    /// (limit, used, name) of each memory cgroup from this process's own up to the root that has a limit.
    /// "Used" leaves out inactive file pages, which the kernel reclaims before it fails an allocation.
    /// </summary>
    private static IEnumerable<(long Limit, long Used, string Name)> CgroupLimits()
    {
        foreach (string line in File.ReadLines("/proc/self/cgroup"))
        {
            // v2 "0::/path"; v1 "4:memory:/path" (controllers may be comma-joined).
            string[] parts = line.Split(':', 3);
            if (parts.Length != 3) continue;
            bool v2 = parts[0] == "0" && parts[1].Length == 0;
            bool v1 = parts[1].Split(',').Contains("memory");
            if (!v1 && !v2) continue;
            string root = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
            string[] files = v2 ? ["memory.max", "memory.current", "inactive_file"] : ["memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"];
            // Inside a cgroup namespace the path may not exist under the mount; the mount is then our own cgroup.
            for (string path = parts[2].TrimEnd('/'); ; path = path[..Math.Max(0, path.LastIndexOf('/'))])
            {
                string directory = root + path;
                if (Directory.Exists(directory) && ReadNumber(Path.Combine(directory, files[0])) is long limit && limit < long.MaxValue / 2
                    && ReadNumber(Path.Combine(directory, files[1])) is long usage)
                {
                    long inactive = File.Exists(Path.Combine(directory, "memory.stat"))
                        ? ReadKeyValues(Path.Combine(directory, "memory.stat"), ' ').GetValueOrDefault(files[2]) : 0;
                    yield return (limit, Math.Max(0, usage - inactive), path.Length == 0 ? "/" : path);
                }
                if (path.Length == 0) break;
            }
        }
    }

    /// <summary>A number in a one-line file; null for "max" or a missing file.</summary>
    private static long? ReadNumber(string path)
    {
        if (!File.Exists(path)) return null;
        string text = File.ReadAllText(path).Trim();
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : null;
    }

    /// <summary>"Key: value [kB]" (or "key value") lines as numbers, units left as they are.</summary>
    private static Dictionary<string, long> ReadKeyValues(string path, char separator = ':')
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(path))
        {
            int split = line.IndexOf(separator);
            if (split <= 0) continue;
            string number = line[(split + 1)..].Trim().Split(' ')[0];
            if (long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long value)) values[line[..split]] = value;
        }
        return values;
    }
}

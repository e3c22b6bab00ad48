namespace Dclm.Formats;

/// <summary>
/// Crash-safe file output, the one way every DclmSharp writer replaces a file: content goes to a hidden temporary
/// sibling (<c>.NAME.PID.GUID.tmp</c>) that is flushed to disk and then renamed over the target, so readers, a
/// resumed run or a crash see either the whole old file or the whole new one, never half of either.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/> atomically, creating its folder if needed.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteBytes(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> atomically, as UTF-8 without a byte-order mark.</summary>
    public static void WriteText(string path, string text) => WriteBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Removes temporary files that a writer which crashed mid-write left in <paramref name="directory"/>: those whose
    /// writing process (the PID in the name) is no longer running on this machine. Files of live writers stay, so shard
    /// processes sharing an output directory may start while others are writing (removing every temporary file raced
    /// with them: a writer's rename found its file gone). A name without a PID is removed.
    /// </summary>
    public static void RemoveLeftovers(string directory)
    {
        if (!Directory.Exists(directory)) return;
        foreach (string file in Directory.EnumerateFiles(directory, ".*.tmp"))
        {
            if (WriterIsRunning(Path.GetFileName(file))) continue;
            try { File.Delete(file); }
            catch (FileNotFoundException) { } // its writer renamed or removed it meanwhile
        }
    }

    // ".NAME.PID.GUID.tmp": the PID is the third field from the end.
    private static bool WriterIsRunning(string name)
    {
        string[] fields = name.Split('.');
        if (fields.Length < 4 || !int.TryParse(fields[^3], out int pid)) return false;
        if (pid == Environment.ProcessId) return false;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; } // no such process
        catch (InvalidOperationException) { return false; }
    }
}

// The canonical check from Java, with xerial sqlite-jdbc (Debian's package: the system SQLite):
// `java -cp sqlite-jdbc.jar Check.java CATALOG EXTENSION QUERIES` prints the first value of each
// statement (or `error: ...`), a line each.
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.sqlite.SQLiteConfig;

public class Check {
    public static void main(String[] args) throws Exception {
        SQLiteConfig config = new SQLiteConfig();
        config.enableLoadExtension(true);
        config.setReadOnly(true);
        try (Connection conn = config.createConnection("jdbc:sqlite:" + args[0]);
             Statement statement = conn.createStatement()) {
            statement.execute("SELECT load_extension('" + args[1] + "')");
            for (String sql : Files.readAllLines(Path.of(args[2]))) {
                if (sql.isBlank()) continue;
                try (ResultSet rows = statement.executeQuery(sql)) {
                    rows.next();
                    String value = rows.getString(1);
                    System.out.println(value == null ? "NULL" : value);
                } catch (SQLException e) {
                    System.out.println("error: " + e.getMessage());
                }
            }
        }
    }
}

// The canonical check from Go, with mattn/go-sqlite3 (Debian's package: the system SQLite):
// `check CATALOG EXTENSION QUERIES` prints the first value of each statement (or `error: ...`),
// a line each. The extension is loaded by LoadExtension with its entry point named: with an empty
// one the driver asks the library for a symbol named "".
package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"
)

func main() {
	catalog, extension, queries := os.Args[1], os.Args[2], os.Args[3]
	sql.Register("sqlite3_sen12lite", &sqlite3.SQLiteDriver{
		ConnectHook: func(conn *sqlite3.SQLiteConn) error {
			return conn.LoadExtension(extension, "sqlite3_extension_init")
		},
	})
	db, err := sql.Open("sqlite3_sen12lite", "file:"+catalog+"?mode=ro")
	if err != nil {
		panic(err)
	}
	conn, err := db.Conn(context.Background()) // one connection: the extension is loaded once
	if err != nil {
		panic(err)
	}
	file, err := os.Open(queries)
	if err != nil {
		panic(err)
	}
	lines := bufio.NewScanner(file)
	for lines.Scan() {
		if strings.TrimSpace(lines.Text()) == "" {
			continue
		}
		var value interface{}
		if err := conn.QueryRowContext(context.Background(), lines.Text()).Scan(&value); err != nil {
			fmt.Printf("error: %v\n", err)
		} else if text, ok := value.([]byte); ok {
			fmt.Println(string(text))
		} else {
			fmt.Println(value)
		}
	}
}

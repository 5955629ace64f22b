SELECT s12_version();
SELECT count(*) FROM scenes WHERE has_files;
SELECT printf('%.6f', s12_index_mean(390, 'ndvi'));
SELECT length(s12_window(390, 's2', 'B4,B8', 0, 0, 64, 64));
SELECT count(*) FROM s12_patches(390, 64, 64);
SELECT s12_index_mean(390, 'ndmi');
SELECT s12_season('2020-07-01', 45);
